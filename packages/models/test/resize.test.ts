// Secure bilinear and nearest resize from any size to any size: the float op against onnxruntime, the
// fixed-point twin against an independent BigInt implementation of the definition, the secure run against
// the twin, and the ledger against the declared cost (a resize sends nothing).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import seedrandom from 'seedrandom';
import * as ort from 'onnxruntime-node';
import { decodeFixed, encodeFixed, RingTensor } from '@si/ring';
import { localParties, measuredCost, reveal, shareInput, totalBytes } from '@si/sharing';
import { compileFixed, exportOnnx, fixedForward, forward, GraphBuilder, publicView, secureForward, secureForwardCost, setupSecure, type Graph } from '../src/index.ts';

const f = 12;
type Case = { N: number; C: number; H: number; W: number; OH: number; OW: number; mode: 'bilinear' | 'nearest' };
const CASES: Case[] = [
  { N: 2, C: 3, H: 4, W: 5, OH: 9, OW: 13, mode: 'bilinear' }, // up, odd sizes, batch 2
  { N: 1, C: 2, H: 9, W: 7, OH: 4, OW: 3, mode: 'bilinear' }, // down
  { N: 1, C: 2, H: 5, W: 8, OH: 5, OW: 3, mode: 'bilinear' }, // rows identical, columns down
  { N: 2, C: 2, H: 1, W: 1, OH: 3, OW: 4, mode: 'bilinear' }, // 1x1 broadcast
  { N: 1, C: 1, H: 1, W: 6, OH: 4, OW: 11, mode: 'bilinear' }, // one row broadcast, columns up
  { N: 2, C: 2, H: 6, W: 5, OH: 11, OW: 3, mode: 'nearest' },
];
const name = (c: Case) => `${c.mode} ${c.N}x${c.C}x${c.H}x${c.W} -> ${c.OH}x${c.OW}`;

function graphOf(c: Case): Graph {
  const g = new GraphBuilder('resize', [c.C, c.H, c.W]);
  return g.build(g.resize('up', g.input, [c.OH, c.OW], c.mode));
}

const values = (n: number, seed: string, scale = 4) => {
  const r = seedrandom(seed);
  return Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale);
};

/**
 * The definition at f bits, per element in BigInt: along each axis, src = max(0, (o + 1/2) in/out - 1/2),
 * i0 = floor(src), i1 = min(i0 + 1, in - 1), w1 = round((src - i0) 2^f), out = (x[i0] (2^f - w1) + x[i1] w1)
 * rounded to nearest (halves up) by f; rows first. Nearest: x[floor(o in / out)].
 */
function twin(x: bigint[], c: Case): bigint[] {
  const axis = (inN: number, outN: number) => Array.from({ length: outN }, (_, o) => {
    const src = Math.max(0, ((o + 0.5) * inN) / outN - 0.5);
    const i0 = Math.min(inN - 1, Math.floor(src)), i1 = Math.min(inN - 1, i0 + 1);
    return { i0, i1, w1: i0 === i1 ? 0n : BigInt(Math.round((src - i0) * 2 ** f)) };
  });
  const one = 1n << BigInt(f);
  const mix = (a: bigint, b: bigint, w1: bigint) => BigInt.asIntN(64, (a * (one - w1) + b * w1 + (one >> 1n)) >> BigInt(f));
  const out: bigint[] = [];
  const ah = axis(c.H, c.OH), aw = axis(c.W, c.OW);
  for (let p = 0; p < c.N * c.C; p++) {
    const at = (h: number, w: number) => x[(p * c.H + h) * c.W + w]!;
    for (let oh = 0; oh < c.OH; oh++)
      for (let ow = 0; ow < c.OW; ow++) {
        if (c.mode === 'nearest') {
          out.push(at(Math.min(c.H - 1, Math.floor((oh * c.H) / c.OH)), Math.min(c.W - 1, Math.floor((ow * c.W) / c.OW))));
          continue;
        }
        const r = ah[oh]!, s = aw[ow]!;
        // An axis whose taps are all copies is not truncated (exact).
        const rowsCopy = ah.every((t) => t.w1 === 0n), colsCopy = aw.every((t) => t.w1 === 0n);
        const row = (w: number) => (rowsCopy ? at(r.i0, w) : mix(at(r.i0, w), at(r.i1, w), r.w1));
        out.push(colsCopy ? row(s.i0) : mix(row(s.i0), row(s.i1), s.w1));
      }
  }
  return out;
}

test('float resize equals onnxruntime (Resize, half-pixel, linear / nearest floor)', async () => {
  for (const c of CASES) {
    const graph = graphOf(c);
    const x = values(c.N * c.C * c.H * c.W, name(c));
    const ours = forward(graph, new Map(), x, c.N).out;
    const s = await ort.InferenceSession.create(exportOnnx(graph, new Map()), { intraOpNumThreads: 1 });
    const theirs = (await s.run({ [s.inputNames[0]!]: new ort.Tensor('float32', x, [c.N, c.C, c.H, c.W]) }))[s.outputNames[0]!]!.data as Float32Array;
    assert.is(ours.length, theirs.length, name(c));
    for (let i = 0; i < ours.length; i++) assert.ok(Math.abs(ours[i]! - theirs[i]!) < 1e-5, `${name(c)} [${i}]: ${ours[i]} vs ${theirs[i]}`);
  }
});

test('fixed-point twin equals the independent definition exactly; secure equals the twin within 2 units (one local truncation per axis); nothing is sent', async () => {
  for (const c of CASES) {
    const graph = graphOf(c);
    const xf = values(c.N * c.C * c.H * c.W, `fixed ${name(c)}`);
    // Edge values too: 0, -1 unit, and large magnitudes (|x| 2^f far below 2^63, as local truncation needs).
    const x = encodeFixed(xf, f, [c.N, c.C, c.H, c.W]);
    x.data[0] = 0n;
    if (x.size > 1) x.data[1] = -1n;
    if (x.size > 2) x.data[2] = 1n << 40n;
    if (x.size > 3) x.data[3] = -(1n << 40n);
    const model = compileFixed(graph, new Map(), f);
    const tw = await fixedForward(model, x);
    assert.equal(Array.from(tw.data), twin(Array.from(x.data), c), `twin ${name(c)}`);
    // Float and twin agree to the encoding's resolution, on the values without the edge cases: per axis a
    // weight rounded to 2^-13 times a difference |x1 - x0| <= 8 (4 units of 2^-12) and half a unit of
    // rounding; half a unit for encoding the input: under 10 units in all.
    const plain = encodeFixed(xf, f, x.shape);
    const fl = forward(graph, new Map(), Float32Array.from(decodeFixed(plain, f)), c.N).out, dt = decodeFixed(await fixedForward(model, plain), f);
    for (let i = 0; i < fl.length; i++) assert.ok(Math.abs(fl[i]! - dt[i]!) <= 10 * 2 ** -f, `${name(c)} float vs twin [${i}]: ${fl[i]} vs ${dt[i]}`);

    const parties = await localParties();
    try {
      const outs = await Promise.all(parties.map(async (p) => {
        const sm = await setupSecure(p, p.id === 1 ? model : publicView(model));
        const xs = shareInput(p, 0, x.shape, p.id === 0 ? x : undefined);
        const y = await p.scope('infer', (q) => secureForward(q, sm, xs));
        return reveal(p, y, 'client');
      }));
      const got = outs[0]!;
      const exact = c.mode === 'nearest' || (c.H === 1 && c.W === 1);
      for (let i = 0; i < got.size; i++) {
        const d = BigInt.asIntN(64, got.data[i]! - tw.data[i]!);
        assert.ok(exact ? d === 0n : d >= -2n && d <= 2n, `${name(c)} secure vs twin [${i}]: ${got.data[i]} vs ${tw.data[i]}`);
      }
      const declared = await secureForwardCost(publicView(model), c.N, {});
      for (const [node, cost] of declared) assert.is(totalBytes(cost), 0, `${node} declares no traffic`);
      assert.is(totalBytes(measuredCost(parties, 'infer')), 0, `${name(c)}: a resize sends nothing`);
    } finally {
      for (const p of parties) p.close();
    }
  }
});

test('bilinear weights of one axis sum to 2^f: a constant map stays exactly constant in the twin, up or down', async () => {
  for (const [H, OH] of [[3, 7], [7, 3], [5, 8]] as const) {
    const graph = graphOf({ N: 1, C: 1, H, W: H, OH, OW: OH, mode: 'bilinear' });
    const v = RingTensor.from(new Array(H * H).fill(12345), [1, 1, H, H]);
    const y = await fixedForward(compileFixed(graph, new Map(), f), v);
    assert.ok(y.data.every((e) => e === 12345n), `${H} -> ${OH}`);
  }
});

test.run();
