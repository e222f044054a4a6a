import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeFixed, RingTensor } from '@si/ring';
import { measuredCost } from '@si/sharing';
import { closeAll, expectCost, openShares, scoped, shareValue, TestData, TRANSPORTS, type Trio } from '@si/sharing/testing';
import { patchReluF32, patchReluFixed, type PatchSize } from '@si/patch-relu';
import { backward, compileFixed, fixedForward, forward, GraphBuilder, publicView, secureForward, secureForwardCost, setupSecure, simulateForward } from '../src/index.ts';

// The ReLU6 op: min(max(x, 0), 6), its lower bound a patch ReLU when the spec says so.
const g = new GraphBuilder('six', [4, 5, 5]);
const graph = g.build(g.relu('r', g.input, 'six', true));
const sizes: PatchSize[] = [[1, 1], [2, 2], [0, 1], [5, 5]];
const spec = { six: sizes };
const data = new TestData('relu6');
const N = 2, f = 12;
// Multiples of 1/64 (64 units at f = 12): none within 2^4 units below 0 or below 6, where small16's window
// rounds (relu-protocols' exactDomain), so the secure run equals the twin exactly in both modes.
const xf = Float32Array.from(data.inDomain([N * 100], [[-576n, 576n]]).data, (v) => Number(v) / 64);

test('float: min(patchReluF32(x), 6), gradient where kept and below 6; plain ReLU6 without a spec', () => {
  const { out, trace } = forward(graph, new Map(), xf, N, { spec, keep: true });
  const { y, mask } = patchReluF32(xf, [N, 4, 5, 5], sizes);
  assert.equal([...out], Array.from(y, (v) => Math.min(v, 6)));
  const { dInput } = backward(trace, new Map(), new Float32Array(out.length).fill(1), true);
  assert.equal([...dInput!], Array.from(mask, (m, i) => (m && y[i]! < 6 ? 1 : 0)));
  assert.equal([...forward(graph, new Map(), xf, N).out], Array.from(xf, (v) => Math.min(6, Math.max(0, v))));
});

test('the twin is min(patchReluFixed(x), 6 at f bits); the secure run and the simulation equal it; ledger == declared', async () => {
  const model = compileFixed(graph, new Map(), f);
  const x = encodeFixed(xf, f, [N, 4, 5, 5]);
  const six = 6n << BigInt(f);
  const want = RingTensor.from(Array.from(patchReluFixed(x, sizes).data, (v) => (v > six ? six : v)), x.shape);
  assert.ok((await fixedForward(model, x, { spec })).equals(want), 'twin');
  const small16 = { mode: 'small-ring' as const, dropLowBits: 4, keepBits: 16 };
  assert.ok((await simulateForward(model, x, { spec, mode: { mode: 'full' } })).equals(want), 'simulation, full mode');
  for (const [transport, make] of TRANSPORTS) {
    const ps = (await make()) as Trio;
    try {
      for (const [i, mode] of [{ mode: 'full' as const }, small16].entries()) {
        for (const s of [spec, undefined]) {
          const label = `run${i}${s ? 'p' : ''}`;
          const xs = shareValue(x, data);
          const ys = await scoped(ps, label, async (q) => secureForward(q, await setupSecure(q, publicView(model)), xs[q.id]!, { ...(s ? { spec: s } : {}), mode }));
          const plain = RingTensor.from(Array.from(x.data, (v) => (v < 0n ? 0n : v > six ? six : v)), x.shape);
          assert.ok(openShares(ys).equals(s ? want : plain), `${transport} ${label}`);
          const cost = (await secureForwardCost(model, N, { ...(s ? { spec: s } : {}), mode })).get('r')!;
          expectCost(measuredCost(ps, `${label}/r`), cost, `${transport} ${label} cost`);
        }
      }
    } finally {
      closeAll(ps);
    }
  }
});

test.run();
