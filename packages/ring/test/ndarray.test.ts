import { test } from 'uvu';
import * as assert from 'uvu/assert';
import ndarray from 'ndarray';
import { decodeNdarray, encodeFixed, encodeNdarray, isWholeRowMajor, RingTensor, ringFromNdarray, ringToNdarray } from '../src/index.ts';

test('ring tensors as ndarray views and back: shared memory when row-major, a copy of the view otherwise', () => {
  const t = RingTensor.from([1, -2, 3, 2 ** 40, -(2 ** 50), 6], [2, 3]);
  const a = ringToNdarray(t);
  assert.is(a.data, t.data, 'no copy');
  assert.equal(a.shape, [2, 3]);
  assert.is(a.get(1, 1), -(2n ** 50n));
  assert.is(ringFromNdarray(a).data, t.data, 'back without a copy');
  const tr = ringFromNdarray(a.transpose(1, 0));
  assert.equal(tr.shape, [3, 2]);
  assert.equal([...tr.data], [1n, 2n ** 40n, -2n, -(2n ** 50n), 3n, 6n]);
  const col = ringFromNdarray(a.pick(null, 2));
  assert.equal([...col.data], [3n, 6n]);
  assert.ok(!isWholeRowMajor(a.lo(0, 1)));
});

test('encodeNdarray: any strides, the same as encodeFixed on the row-major values; decodeNdarray', () => {
  const x = Float32Array.from([0.5, -1.25, 3, 7.75, -0.001, 2]);
  const v = ndarray(x, [2, 3]);
  assert.ok(encodeNdarray(v, 12).equals(encodeFixed(x, 12, [2, 3])));
  const t = encodeNdarray(v.transpose(1, 0), 12);
  assert.ok(t.equals(encodeFixed([0.5, 7.75, -1.25, -0.001, 3, 2], 12, [3, 2])));
  const mirrored = encodeNdarray(v.step(1, -1), 8);
  assert.ok(mirrored.equals(encodeFixed([3, -1.25, 0.5, 2, -0.001, 7.75], 8, [2, 3])));
  const back = decodeNdarray(encodeFixed([1.5, -2.25], 12, [1, 2]), 12);
  assert.equal(back.shape, [1, 2]);
  assert.is(back.get(0, 1), -2.25);
  assert.throws(() => encodeNdarray(ndarray(Float64Array.of(NaN), [1]), 12), /does not fit in 64 bits/);
});

test.run();
