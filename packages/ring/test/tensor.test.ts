import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RingTensor } from '../src/index.ts';
import { EDGES, randInt, randomTensor, rng, sameI64 } from './_helpers.ts';

const wrap = (v: bigint): bigint => BigInt.asIntN(64, v);
const r = rng('tensor');

function mapRef(a: BigInt64Array, f: (x: bigint, i: number) => bigint): BigInt64Array {
  return BigInt64Array.from(a, (x, i) => wrap(f(x, i)));
}

test('add, sub, mul, neg equal the BigInt reference (odd sizes, edge values)', () => {
  for (const n of [0, 1, 2, 3, 7, 64, 1001, 70_001]) {
    const a = randomTensor(r, [n], 0.3), b = randomTensor(r, [n], 0.3);
    assert.is(sameI64(a.add(b).data, mapRef(a.data, (x, i) => x + b.data[i]!)), true, `add n=${n}`);
    assert.is(sameI64(a.sub(b).data, mapRef(a.data, (x, i) => x - b.data[i]!)), true, `sub n=${n}`);
    assert.is(sameI64(a.mul(b).data, mapRef(a.data, (x, i) => x * b.data[i]!)), true, `mul n=${n}`);
    assert.is(sameI64(a.neg().data, mapRef(a.data, (x) => -x)), true, `neg n=${n}`);
  }
});

test('every pair of edge values wraps like BigInt.asIntN(64)', () => {
  const xs: bigint[] = [], ys: bigint[] = [];
  for (const x of EDGES) for (const y of EDGES) (xs.push(x), ys.push(y));
  const a = RingTensor.from(xs), b = RingTensor.from(ys);
  assert.equal([...a.add(b).data], xs.map((x, i) => wrap(x + ys[i]!)));
  assert.equal([...a.sub(b).data], xs.map((x, i) => wrap(x - ys[i]!)));
  assert.equal([...a.mul(b).data], xs.map((x, i) => wrap(x * ys[i]!)));
});

test('scalar ops and shifts equal the reference', () => {
  const a = randomTensor(r, [513], 0.3);
  for (const s of [0n, 1n, -1n, 3n, 2n ** 63n, 123456789123n, -(2n ** 40n)]) {
    assert.is(sameI64(a.mulScalar(s).data, mapRef(a.data, (x) => x * s)), true, `mulScalar ${s}`);
    assert.is(sameI64(a.addScalar(s).data, mapRef(a.data, (x) => x + s)), true, `addScalar ${s}`);
  }
  assert.is(sameI64(a.mulScalar(-7).data, mapRef(a.data, (x) => x * -7n)), true, 'number scalar');
  for (const bits of [0, 1, 12, 31, 32, 33, 63]) {
    assert.is(sameI64(a.shr(bits).data, mapRef(a.data, (x) => x >> BigInt(bits))), true, `shr ${bits}`);
    assert.is(sameI64(a.shrLogical(bits).data, mapRef(a.data, (x) => BigInt.asUintN(64, x) >> BigInt(bits))), true, `shrLogical ${bits}`);
    assert.is(sameI64(a.shl(bits).data, mapRef(a.data, (x) => x << BigInt(bits))), true, `shl ${bits}`);
  }
  assert.throws(() => a.shr(64), /"bits" expected an integer in \[0, 63\], got 64/);
  assert.throws(() => a.mulScalar(0.5), /"scalar" expected an integer/);
});

test('in-place forms write into the receiver', () => {
  const a = randomTensor(r, [99]), b = randomTensor(r, [99]);
  const want = a.add(b).mulScalar(5n).sub(b).neg().shr(3).shl(2).addScalar(-9n).mul(b);
  const c = a.clone();
  const same = c.addInPlace(b).mulScalarInPlace(5n).subInPlace(b).negInPlace().shrInPlace(3).shlInPlace(2).addScalarInPlace(-9n).mulInPlace(b);
  assert.is(same, c);
  assert.ok(c.equals(want));
  assert.not.ok(a.equals(want));
});

test('binary ops reject mismatched shapes, naming the operand', () => {
  const a = RingTensor.zeros([2, 3]);
  assert.throws(() => a.add(RingTensor.zeros([3, 2])), /"b" expected shape \[2,3\], got \[3,2\]/);
  assert.throws(() => a.add([1, 2] as unknown as RingTensor), /"b" expected a RingTensor/);
});

test('sum over each axis equals the reference', () => {
  const shape = [3, 4, 5, 2];
  const a = randomTensor(r, shape);
  for (let axis = 0; axis < 4; axis++) {
    const s = a.sum(axis);
    const outShape = shape.filter((_, i) => i !== axis);
    assert.equal(s.shape, outShape);
    const strides = [40, 10, 2, 1];
    const want = new BigInt64Array(s.size);
    for (let i = 0; i < a.size; i++) {
      const idx = strides.map((st, d) => Math.floor(i / st) % shape[d]!);
      const o = idx.filter((_, d) => d !== axis).reduce((acc, v, d) => acc * outShape[d]! + v, 0);
      want[o] = wrap(want[o]! + a.data[i]!);
    }
    assert.is(sameI64(s.data, want), true, `axis ${axis}`);
  }
});

test('sliceChannels / concatChannels round-trip', () => {
  const a = randomTensor(r, [2, 7, 3, 3]);
  const parts = [a.sliceChannels(0, 2), a.sliceChannels(2, 3), a.sliceChannels(3, 7)];
  assert.equal(parts.map((p) => p.shape[1]), [2, 1, 4]);
  assert.ok(RingTensor.concatChannels(parts).equals(a));
  assert.is(a.sliceChannels(3, 4).data[9], a.data[(1 * 7 + 3) * 9]);
  assert.throws(() => a.sliceChannels(5, 8), /"end" expected an integer in \[5, 7\]/);
  assert.throws(() => RingTensor.concatChannels([a, RingTensor.zeros([2, 1, 3, 4])]), /"parts\[1\]" expected shape \[2,\*,3,3\]/);
});

test('transpose equals index arithmetic; reshape shares data', () => {
  const a = randomTensor(r, [2, 3, 4]);
  const t = a.transpose([2, 0, 1]);
  assert.equal(t.shape, [4, 2, 3]);
  for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++)
    assert.is(t.data[(k * 2 + i) * 3 + j], a.data[(i * 3 + j) * 4 + k]);
  assert.ok(t.transpose([1, 2, 0]).equals(a));
  const v = a.reshape([6, -1]);
  assert.equal(v.shape, [6, 4]);
  assert.is(v.data, a.data);
  assert.throws(() => a.reshape([5, -1]), /cannot reshape \[2,3,4\] to \[5,-1\]/);
  assert.throws(() => a.transpose([0, 0, 1]), /"perm" expected a permutation/);
});

test('constructors: from, zeros, random from a byte source', () => {
  const t = RingTensor.from([1, -2, 2n ** 63n, 2n ** 64n + 5n, -(2 ** 53) + 1], [5]);
  assert.equal([...t.data], [1n, -2n, -(2n ** 63n), 5n, -(2n ** 53n) + 1n]);
  assert.throws(() => RingTensor.from([1.5]), /"values\[0\]" expected an integer/);
  assert.throws(() => new RingTensor(new BigInt64Array(5), [2, 3]), /"data" has 5 elements, shape \[2,3\] needs 6/);
  let calls = 0;
  const x = RingTensor.random([3, 5], (bytes) => {
    calls++;
    assert.is(bytes.length, 120);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 37 + 11) & 0xff;
  });
  assert.is(calls, 1);
  assert.is(x.data[0], BigInt.asIntN(64, BigInt('0x' + [7, 6, 5, 4, 3, 2, 1, 0].map((i) => ((i * 37 + 11) & 0xff).toString(16).padStart(2, '0')).join(''))));
  assert.is(String(RingTensor.from([1, 2])), 'RingTensor[2](1, 2)');
  const big = randInt(r, 1, 3);
  assert.ok(big >= 1);
});

test.run();
