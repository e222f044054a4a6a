import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RingTensor } from '@si/ring';
import {
  beaver, beaverClear, beaverCost, convOp, elementwise, knownLayer, knownWeightsSetupCost, linearKnown, linearKnownClear,
  linearKnownCost, LinearPre, prepareLinearKnown, prepareLinearKnownCost, matmulOp, measuredCost, reveal, revealClear, revealCost, rerandomize, setupKnownWeights, shareInput,
  truncate, truncateClear, type Bilinear, type Shared,
} from '../src/index.ts';
import { all, closeAll, labeled, randomRing, smallRing, TRANSPORTS, type Trio } from './_parties.ts';

const shapeSize = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

async function shareBoth(ps: Trio, x: RingTensor, owner: 0 | 1 = 0): Promise<[Shared, Shared, Shared]> {
  return all(ps, (p) => shareInput(p, owner, x.shape, p.id === owner ? x : undefined));
}

for (const [transport, make] of TRANSPORTS) {
  test(`[${transport}] input sharing is free and reveal opens to one or both, as declared`, async () => {
    const ps = await make();
    try {
      for (const owner of [0, 1] as const) {
        const x = randomRing(`in${owner}`, [3, 5]);
        const xs = await labeled(ps, `share${owner}`, (p) => shareInput(p, owner, x.shape, p.id === owner ? x : undefined));
        assert.equal(measuredCost(ps, `share${owner}`), { bytes: {}, rounds: 0 });
        assert.ok(revealClear(xs[0].share!, xs[1].share!).equals(x));
        assert.not.ok(xs[0].share!.equals(x), 'a share is not the value');
        for (const to of ['client', 'server', 'both'] as const) {
          const label = `reveal-${owner}-${to}`;
          const got = await labeled(ps, label, (p) => reveal(p, xs[p.id], to));
          assert.is(got[2], null);
          if (to !== 'server') assert.ok(got[0]!.equals(x));
          else assert.is(got[0], null);
          if (to !== 'client') assert.ok(got[1]!.equals(x));
          else assert.is(got[1], null);
          assert.equal(measuredCost(ps, label), revealCost(x.size, to), label);
        }
      }
    } finally {
      closeAll(ps);
    }
  });

  test(`[${transport}] truncation equals its twin on the shares, and is within one ulp of the exact shift`, async () => {
    const ps = await make();
    try {
      const x = smallRing('trunc', [4, 64], 40).addScalar(0);
      const edges = RingTensor.from([0, -1, 1, 4095, 4096, -4096, -4097, 2 ** 40, -(2 ** 40)], [9]);
      for (const v of [x, edges]) {
        const xs = await shareBoth(ps, v);
        for (const f of [0, 1, 12, 16]) {
          const ts = await labeled(ps, `trunc${f}`, (p) => truncate(p, xs[p.id], f));
          assert.equal(measuredCost(ps, `trunc${f}`), { bytes: {}, rounds: 0 });
          const got = revealClear(ts[0].share!, ts[1].share!);
          assert.ok(got.equals(truncateClear(xs[0].share!, xs[1].share!, f)), `twin f=${f}`);
          const diff = got.sub(v.shr(f)).data;
          for (let i = 0; i < diff.length; i++) assert.ok(diff[i] === 0n || diff[i] === 1n, `f=${f} element ${i}: off by ${diff[i]}`);
        }
      }
    } finally {
      closeAll(ps);
    }
  });

  test(`[${transport}] Beaver products (elementwise, matmul, conv) equal their twins; ledger == declared`, async () => {
    const ps = await make();
    try {
      const cases: [string, RingTensor, RingTensor, Bilinear][] = [
        ['mul', randomRing('mx', [2, 33]), randomRing('my', [2, 33]), elementwise],
        ['mul-edges', RingTensor.from([0n, -1n, 2n ** 62n, -(2n ** 63n), 2n ** 63n - 1n]), RingTensor.from([-1n, -1n, 4n, -1n, 2n ** 63n - 1n]), elementwise],
        ['matmul', randomRing('ax', [5, 7]), randomRing('ay', [7, 3]), matmulOp],
        ['conv', randomRing('cx', [2, 3, 6, 5]), randomRing('cw', [4, 3, 3, 3]), convOp({ padding: 1, stride: [1, 2] })],
        ['conv-dw', randomRing('dx', [1, 4, 5, 5]), randomRing('dw', [4, 1, 3, 3]), convOp({ groups: 4, dilation: 2, padding: 2 })],
      ];
      for (const [name, x, y, op] of cases) {
        const xs = await shareBoth(ps, x, 0), ys = await shareBoth(ps, y, 1);
        const zs = await labeled(ps, name, (p) => beaver(p, xs[p.id], ys[p.id], op));
        const want = beaverClear(x, y, op);
        assert.ok(revealClear(zs[0].share!, zs[1].share!).equals(want), name);
        assert.equal(zs[2].shape, want.shape);
        assert.equal(measuredCost(ps, name), beaverCost(x.size, y.size, want.size), name);
      }
    } finally {
      closeAll(ps);
    }
  });

  test(`[${transport}] linear layers with server-known weights: exact product, one input- and one output-sized message online`, async () => {
    const ps = await make();
    try {
      const cases: [string, RingTensor, RingTensor, Bilinear][] = [
        ['conv', randomRing('lx', [2, 4, 7, 7]), randomRing('lw', [6, 4, 3, 3]), convOp({ padding: 1 })],
        ['conv-s2', randomRing('sx', [1, 3, 9, 9]), randomRing('sw', [5, 3, 3, 3]), convOp({ stride: 2 })],
        ['fc', randomRing('fx', [3, 16]), randomRing('fw', [16, 10]), matmulOp],
      ];
      for (const [name, x, w, op] of cases) {
        const layers = await all(ps, (p) => setupKnownWeights(p, `${name}-w`, op, w.shape, p.id === 1 ? w : undefined));
        assert.equal(measuredCost(ps, `${name}-w`, 'setup'), knownWeightsSetupCost(w.size), `${name} setup`);
        const xs = await shareBoth(ps, x, 0);
        for (let rep = 0; rep < 2; rep++) {
          const label = `${name}-${rep}`;
          const ys = await labeled(ps, label, (p) => linearKnown(p, xs[p.id], layers[p.id]));
          const want = linearKnownClear(x, w, op);
          assert.ok(revealClear(ys[0].share!, ys[1].share!).equals(want), label);
          assert.equal(measuredCost(ps, label), linearKnownCost(x.size, want.size), label);
        }
        // Preprocessed: G crosses ahead of the input; online only E does.
        const pres = await all(ps, (p) => p.scope(`${name}-pre`, () => prepareLinearKnown(p, layers[p.id], x.shape), 'preprocess'));
        assert.equal(measuredCost(ps, `${name}-pre`, 'preprocess'), prepareLinearKnownCost(linearKnownClear(x, w, op).size), `${name} preprocess`);
        const ys = await labeled(ps, `${name}-prepared`, (p) => linearKnown(p, xs[p.id], layers[p.id], pres[p.id]));
        assert.ok(revealClear(ys[0].share!, ys[1].share!).equals(linearKnownClear(x, w, op)), `${name} prepared`);
        assert.equal(measuredCost(ps, `${name}-prepared`), linearKnownCost(x.size, 0, true), `${name} prepared`);
        const misuse = await linearKnown(ps[0], xs[0], layers[0], new LinearPre('other', x.shape, null, null)).then(() => '', (e: Error) => e.message);
        assert.match(misuse, /preprocessing for "other"/);
      }
    } finally {
      closeAll(ps);
    }
  });
}

test('a fixed-point layer (truncation + bias) is within one ulp of the float-free reference', async () => {
  const ps = await TRANSPORTS[0]![1]();
  try {
    const f = 12;
    const x = smallRing('fx', [1, 3, 8, 8], 14), w = smallRing('fw', [4, 3, 3, 3], 12), b = smallRing('fb', [4], 12);
    const op = convOp({ padding: 1 });
    const layers = await all(ps, (p) => setupKnownWeights(p, 'layer', op, w.shape, p.id === 1 ? w : undefined, p.id === 1 ? b : undefined));
    const xs = await shareBoth(ps, x);
    const ys = await all(ps, (p) => knownLayer(p, xs[p.id], layers[p.id], f));
    const got = revealClear(ys[0].share!, ys[1].share!);
    const exact = op.apply(x, w).shr(f);
    const P = 64;
    for (let i = 0; i < got.size; i++) {
      const d = got.data[i]! - exact.data[i]! - b.data[Math.floor(i / P) % 4]!;
      assert.ok(d === 0n || d === 1n, `element ${i} off by ${d}`);
    }
  } finally {
    closeAll(ps);
  }
});

test('rerandomize changes the shares, not the value, for free', async () => {
  const ps = await TRANSPORTS[0]![1]();
  try {
    const x = randomRing('rr', [10]);
    const xs = await shareBoth(ps, x);
    const rs = await labeled(ps, 'rr', (p) => rerandomize(p, xs[p.id]));
    assert.ok(revealClear(rs[0].share!, rs[1].share!).equals(x));
    assert.not.ok(rs[0].share!.equals(xs[0].share!));
    assert.equal(measuredCost(ps, 'rr'), { bytes: {}, rounds: 0 });
  } finally {
    closeAll(ps);
  }
});

test('shapes are checked where the shares meet', async () => {
  const ps = await TRANSPORTS[0]![1]();
  try {
    const xs = await shareBoth(ps, randomRing('a', [2, 3]));
    const ys = await shareBoth(ps, randomRing('b', [3, 3]));
    try {
      await beaver(ps[0], xs[0], ys[0], elementwise);
      assert.unreachable();
    } catch (e) {
      assert.match((e as Error).message, /"y" expected shape \[2,3\], got \[3,3\]/);
    }
    assert.throws(() => shareInput(ps[0], 0, [2], undefined), /client owns the input but passed no value/);
    assert.throws(() => shareInput(ps[0], 2 as 0, [2]), /"owner" must be the client \(0\) or the server \(1\)/);
    void shapeSize;
  } finally {
    closeAll(ps);
  }
});

test.run();
