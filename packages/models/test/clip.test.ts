import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeFixed, RingTensor } from '@si/ring';
import { measuredCost } from '@si/sharing';
import { closeAll, expectCost, openShares, scoped, shareValue, TestData, TRANSPORTS, type Trio } from '@si/sharing/testing';
import { patchReluF32, patchReluFixed, type PatchSize } from '@si/patch-relu';
import { backward, compileFixed, fixedForward, forward, GraphBuilder, GraphError, publicView, secureForward, secureForwardCost, setupSecure } from '../src/index.ts';

// The clip op: min(max(x, 0), max) for any positive max (ONNX Clip(0, t)), patch ReLU below when the spec says so.
const g = new GraphBuilder('clip', [3, 4, 4]);
const graph = g.build(g.node('clip', 'c', [g.input], { layer: 'c', max: 2.5 }));
const sizes: PatchSize[] = [[2, 2], [1, 1], [4, 4]];
const data = new TestData('clip');
const N = 2, f = 12;
// Multiples of 1/64: none within 2^4 units below 0 or below 2.5, where small16's window rounds.
const xf = Float32Array.from(data.inDomain([N * 48], [[-256n, 256n]]).data, (v) => Number(v) / 64);

test('float: min(patchReluF32(x), max) with the gradient where kept and below max; shapes checked', () => {
  const { out, trace } = forward(graph, new Map(), xf, N, { spec: { c: sizes }, keep: true });
  const { y, mask } = patchReluF32(xf, [N, 3, 4, 4], sizes);
  assert.equal([...out], Array.from(y, (v) => Math.min(v, 2.5)));
  const { dInput } = backward(trace, new Map(), new Float32Array(out.length).fill(1), true);
  assert.equal([...dInput!], Array.from(mask, (m, i) => (m && y[i]! < 2.5 ? 1 : 0)));
  const b = new GraphBuilder('bad', [1, 2, 2]);
  assert.throws(() => b.node('clip', 'c', [b.input], { layer: 'c', max: 0 }), (e: Error) => e instanceof GraphError && /clip needs a positive finite max, got 0/.test(e.message));
});

test('twin and secure run (memory and TCP, full and small16, with and without patches) agree exactly; ledger == declared', async () => {
  const model = compileFixed(graph, new Map(), f);
  const x = encodeFixed(xf, f, [N, 3, 4, 4]);
  const hi = BigInt(2.5 * 4096);
  const clipAt = (t: RingTensor) => RingTensor.from(Array.from(t.data, (v) => (v > hi ? hi : v)), t.shape);
  const want = clipAt(patchReluFixed(x, sizes));
  assert.ok((await fixedForward(model, x, { spec: { c: sizes } })).equals(want));
  for (const [transport, make] of TRANSPORTS) {
    const ps = (await make()) as Trio;
    try {
      for (const [i, mode] of [{ mode: 'full' as const }, { mode: 'small-ring' as const, dropLowBits: 4, keepBits: 16 }].entries()) {
        for (const spec of [{ c: sizes }, undefined]) {
          const label = `run${i}${spec ? 'p' : ''}`;
          const xs = shareValue(x, data);
          const ys = await scoped(ps, label, async (q) => secureForward(q, await setupSecure(q, publicView(model)), xs[q.id]!, { ...(spec ? { spec } : {}), mode }));
          assert.ok(openShares(ys).equals(spec ? want : clipAt(RingTensor.from(Array.from(x.data, (v) => (v < 0n ? 0n : v)), x.shape))), `${transport} ${label}`);
          expectCost(measuredCost(ps, `${label}/c`), (await secureForwardCost(model, N, { ...(spec ? { spec } : {}), mode })).get('c')!, `${transport} ${label}`);
        }
      }
    } finally {
      closeAll(ps);
    }
  }
});

test.run();
