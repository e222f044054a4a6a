import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeFixed, encodeFixed, RingTensor } from '../src/index.ts';
import { rng } from './_helpers.ts';

const r = rng('fixed');

test('encode rounds to nearest, ties away from zero, and matches the BigInt definition', () => {
  const t = encodeFixed([1.5, -0.25, 0, -0, 0.5 / 4096, -0.5 / 4096, 1.4 / 4096, -1.6 / 4096, 2 ** 40, -(2 ** 50) - 0.75], 12);
  assert.equal([...t.data], [6144n, -1024n, 0n, 0n, 1n, -1n, 1n, -2n, 2n ** 52n, -(2n ** 62n) - 3072n]);
  const vals = Float64Array.from({ length: 1000 }, () => (r() - 0.5) * 2 ** (r() * 34)); // |v * 2^16| < 2^50: exact in doubles
  const got = encodeFixed(vals, 16);
  for (let i = 0; i < vals.length; i++) {
    const v = vals[i]! * 65536;
    const want = BigInt(Math.sign(v) * Math.floor(Math.abs(v) + 0.5));
    if (Math.abs(Math.abs(v) % 1 - 0.5) > 1e-6) assert.is(got.data[i], want, `value ${vals[i]}`);
  }
});

test('decode(encode(v)) is within half an ulp; Float32Array input works', () => {
  for (const f of [0, 12, 16, 30]) {
    const vals = Float32Array.from({ length: 200 }, () => (r() - 0.5) * 1000);
    const back = decodeFixed(encodeFixed(vals, f), f);
    for (let i = 0; i < vals.length; i++) assert.ok(Math.abs(back[i]! - vals[i]!) <= 2 ** -(f + 1) + 1e-12, `f=${f} i=${i}`);
  }
  assert.equal([...decodeFixed(RingTensor.from([-(2n ** 63n), 2n ** 63n - 1n, -1n]), 0)], [-(2 ** 63), 2 ** 63, -1]);
});

test('encode refuses values that do not fit, naming the index', () => {
  assert.throws(() => encodeFixed([0, Number.NaN], 12), /"values\[1\]" = NaN does not fit/);
  assert.throws(() => encodeFixed([2 ** 51], 12), /"values\[0\]" = 2251799813685248 does not fit in 64 bits at 12 fractional bits/);
  assert.throws(() => encodeFixed([Infinity], 0), /does not fit/);
  assert.is(encodeFixed([-(2 ** 51)], 12).data[0], -(2n ** 63n));
  assert.throws(() => encodeFixed([1, 2, 3], 12, [2, 2]), /"values" has 3 elements, shape \[2,2\] needs 4/);
  assert.throws(() => encodeFixed([1], 63), /"f" expected an integer in \[0, 62\]/);
});

test.run();
