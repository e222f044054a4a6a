import { test } from 'uvu';
import * as assert from 'uvu/assert';
import seedrandom from 'seedrandom';
import { RingTensor, encodeFixed } from '@si/ring';
import { measuredCost } from '@si/sharing';
import { checkProtocol, closeAll, expectCost, openShares, scoped, shareValue, TRANSPORTS, type AnyProtocol, type Trio } from '@si/sharing/testing';
import type { DreluMode } from '@si/relu-protocols';
import { patchClip, patchClipDrelus, patchRelu, patchReluBackwardF32, patchReluCost, patchReluDrelus, patchReluF32, patchReluFixed, type PatchSize } from '../src/index.ts';

function randomSizes(seed: string, C: number, H: number, W: number): PatchSize[] {
  const r = seedrandom(seed);
  return Array.from({ length: C }, (_, c): PatchSize => {
    const k = c % 5;
    if (k === 0) return [1, 1];
    if (k === 1) return [0, 1];
    if (k === 2) return [1, 0];
    if (k === 3) return [H + 1 + Math.floor(r() * 3), 1 + Math.floor(r() * (W + 2))]; // taller than the map
    return [1 + Math.floor(r() * 4), 1 + Math.floor(r() * 4)];
  });
}

function activations(seed: string, shape: number[]): RingTensor {
  const r = seedrandom(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return encodeFixed(Float64Array.from({ length: n }, () => (r() - 0.5) * 8), 12, shape);
}

const MODES: [string, DreluMode][] = [
  ['full', { mode: 'full' }],
  ['small16', { mode: 'small-ring', dropLowBits: 4, keepBits: 16 }],
  ['paper16', { mode: 'paper', dropLowBits: 4, keepBits: 16 }],
  ['twohop16', { mode: 'small-ring', dropLowBits: 4, keepBits: 16, hops: 2 }],
];

for (const [transport, make] of TRANSPORTS) {
  test(`[${transport}] the secure patch ReLU and patch Clip equal their twins (mixed specs, odd maps, oversize and full-map patches, all-identity, batches 1-3); ledger == declared`, async () => {
    const ps = await make();
    try {
      for (const rec of [patchRelu, patchClip] as AnyProtocol[]) await checkProtocol(rec, { parties: ps, trials: transport === 'tls' ? 1 : 2 });
    } finally {
      closeAll(ps);
    }
  });
}

test('random specs on random maps (patches taller and wider than the map): secure == exact-sign twin in every mode', async () => {
  const ps = (await TRANSPORTS[0]![1]()) as Trio;
  try {
    const params = [];
    for (const [H, W] of [[7, 7], [14, 14], [1, 1], [5, 9]] as const)
      for (const N of [1, 3]) for (const [name, mode] of MODES) params.push({ shape: [N, 7, H, W], sizes: randomSizes(`${H}${W}${N}${name}`, 7, H, W), mode });
    await checkProtocol(patchRelu, { parties: ps, params, trials: 1 });
  } finally {
    closeAll(ps);
  }
});

test('small-ring patch sums are compared exactly near 0: sums of -15..-1 units are dropped, 0..15 kept', async () => {
  // 4x4 and 7x7 patches of values of +-2 that cancel, nudged so each sum is a few units from 0 (units of
  // 2^-12). Dropping the mode's d = 4 low bits by local truncation would round sums in [-16, 0) up to 0
  // about half the time; the layer's window starts at bit 0 instead, so every patch gets its exact sign.
  const ps = (await TRANSPORTS[0]![1]()) as Trio;
  try {
    const r = seedrandom('small sums');
    const N = 2, C = 2, H = 14, W = 14;
    const sizes: PatchSize[] = [[4, 4], [7, 7]];
    const mode: DreluMode = { mode: 'small-ring', dropLowBits: 4, keepBits: 16 };
    let passed = 0;
    for (const sign of [-1, 1]) {
      const v = new Float64Array(N * C * H * W);
      for (let i = 0; i < v.length; i += 2) (v[i] = 2 * (r() + 0.5)), (v[i + 1] = -v[i]!);
      const x = encodeFixed(v, 12, [N, C, H, W]);
      for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) {
        const [ph, pw] = sizes[c]!;
        for (let py = 0; py < H; py += ph) for (let px = 0; px < W; px += pw) {
          let sum = 0n;
          for (let y = py; y < Math.min(H, py + ph); y++) for (let xx = px; xx < Math.min(W, px + pw); xx++) sum += x.data[((n * C + c) * H + y) * W + xx]!;
          const want = sign < 0 ? -1 - Math.floor(r() * 15) : Math.floor(r() * 16);
          x.data[((n * C + c) * H + py) * W + px]! += BigInt(want) - sum;
        }
      }
      for (let t = 0; t < 3; t++) {
        const xs = shareValue(x);
        const ys = await scoped(ps, `small-sums-${sign}-${t}`, (p) => patchRelu(p, xs[p.id]!, sizes, mode));
        const got = openShares(ys);
        assert.ok(got.equals(sign < 0 ? RingTensor.zeros(x.shape) : x), sign < 0 ? 'every patch has a negative sum' : 'every patch has a non-negative sum');
        assert.ok(got.equals(patchReluFixed(x, sizes)), 'equals the exact-sign twin');
        // The two-hop test compares the sums at 2^(d+e) resolution (e = 4 and 6 here): a sum a few units
        // below 0 usually rounds up to 0 and its patch passes whole; non-negative sums are always kept.
        const two = openShares(await scoped(ps, `small-sums-2-${sign}-${t}`, (p) => patchRelu(p, xs[p.id]!, sizes, { ...mode, hops: 2 })));
        if (sign > 0) assert.ok(two.equals(x), 'two-hop: every non-negative sum kept');
        else {
          assert.ok(two.data.every((v, i) => v === 0n || v === x.data[i]), 'two-hop: each pixel is its value or 0 (whole patches: the records test checks)');
          passed += two.data.filter((v, i) => v !== 0n && v === x.data[i]).length;
        }
      }
    }
    assert.ok(passed > 0, 'two-hop: some patches with sums just below 0 pass (the documented tolerance)');
  } finally {
    closeAll(ps);
  }
});

test('an all-identity layer sends nothing; an all-zero layer outputs zeros and sends nothing', async () => {
  const ps = (await TRANSPORTS[0]![1]()) as Trio;
  try {
    const x = activations('id', [2, 4, 6, 6]);
    const xs = shareValue(x);
    const ident = await scoped(ps, 'ident', (p) => patchRelu(p, xs[p.id]!, Array(4).fill([0, 1]), { mode: 'full' }));
    assert.ok(openShares(ident).equals(x));
    assert.equal(measuredCost(ps, 'ident'), { bytes: {}, rounds: 0 });
    const zero = await scoped(ps, 'zero', (p) => patchRelu(p, xs[p.id]!, Array(4).fill([1, 0]), { mode: 'full' }));
    assert.ok(openShares(zero).equals(RingTensor.zeros(x.shape)));
    assert.equal(measuredCost(ps, 'zero'), { bytes: {}, rounds: 0 });
    expectCost(patchReluCost(x.shape, Array(4).fill([0, 1]), { mode: 'full' }), { bytes: {}, rounds: 0 });
  } finally {
    closeAll(ps);
  }
});

test('float32 forward keeps a patch iff its sum is >= 0; backward passes gradient where kept; agrees with fixed point', () => {
  const shape = [2, 5, 7, 7];
  const sizes = randomSizes('f32', 5, 7, 7);
  const r = seedrandom('f32x');
  const xf = Float32Array.from({ length: 2 * 5 * 49 }, () => (r() - 0.5) * 4);
  const { y, mask } = patchReluF32(xf, shape, sizes);
  for (let i = 0; i < y.length; i++) assert.is(y[i], mask[i] ? xf[i] : 0);
  // The same decisions in fixed point (no patch sum of this sample is within rounding of 0).
  const enc = encodeFixed(xf, 12, shape);
  assert.ok(patchReluFixed(enc, sizes).equals(enc.mul(RingTensor.from(mask, shape))));
  const g = patchReluBackwardF32(Float32Array.from(y, () => 1), mask);
  assert.equal([...g], [...mask]);
  // Patch sums decide: a patch with one large positive pixel keeps its negative pixels.
  const one = patchReluF32(Float32Array.from([5, -1, -1, -1]), [1, 1, 2, 2], [[2, 2]]);
  assert.equal([...one.y], [5, -1, -1, -1]);
  const neg = patchReluF32(Float32Array.from([1, -1, -1, -1]), [1, 1, 2, 2], [[2, 2]]);
  assert.equal([...neg.y], [0, 0, 0, 0]);
  assert.is(patchReluDrelus([2, 5, 7, 7], [[1, 1], [0, 1], [1, 0], [8, 3], [2, 2]]), 2 * (49 + 3 + 16));
  // The same as a clip layer: and an upper clip per pixel of the four channels not zeroed ([1, 0]).
  assert.is(patchClipDrelus([2, 5, 7, 7], [[1, 1], [0, 1], [1, 0], [8, 3], [2, 2]]), 2 * (49 + 3 + 16) + 2 * 4 * 49);
  assert.is(patchClipDrelus([2, 3, 7, 7], [[1, 1], [1, 1], [1, 1]]), 2 * 2 * 3 * 49, 'plain ReLU6: two per pixel');
  assert.throws(() => patchReluFixed(RingTensor.zeros([1, 2, 2, 2]), [[1, 1]]), /1 patch sizes for 2 channels/);
});

test.run();
