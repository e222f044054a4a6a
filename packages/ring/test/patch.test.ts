import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { patchExpand, patchSum, RingTensor } from '../src/index.ts';
import { patchSumRef, randInt, randomTensor, rng, sameI64 } from './_helpers.ts';

const r = rng('patch');

test('patch sums equal the reference, partial edge patches included', () => {
  for (const [H, W] of [[7, 7], [14, 14], [1, 1], [5, 9], [32, 32]] as const) {
    for (let t = 0; t < 6; t++) {
      const ph = randInt(r, 1, H + 2), pw = randInt(r, 1, W + 2);
      const x = randomTensor(r, [2, 3, H, W]);
      const s = patchSum(x, ph, pw);
      assert.equal(s.shape, [2, 3, Math.ceil(H / ph), Math.ceil(W / pw)]);
      assert.is(sameI64(s.data, patchSumRef(x, ph, pw)), true, `${H}x${W} patch ${ph}x${pw}`);
    }
  }
});

test('expand gives every pixel its patch value; sum(expand(1)) counts pixels per patch', () => {
  const s = RingTensor.from([1, 2, 3, 4, 5, 6], [1, 2, 3]);
  const e = patchExpand(s, 2, 3, 3, 7);
  assert.equal(e.shape, [1, 3, 7]);
  assert.equal([...e.data].map(Number), [1, 1, 1, 2, 2, 2, 3, 1, 1, 1, 2, 2, 2, 3, 4, 4, 4, 5, 5, 5, 6]);
  const ones = patchExpand(RingTensor.from(new Array(6).fill(1), [2, 3]), 2, 3, 3, 7);
  assert.equal([...patchSum(ones, 2, 3).data].map(Number), [6, 6, 2, 3, 3, 1]);
});

test('shape errors', () => {
  assert.throws(() => patchExpand(RingTensor.zeros([2, 2]), 2, 2, 5, 5), /"s" expected shape \[3,3\], got \[2,2\]/);
  assert.throws(() => patchSum(RingTensor.zeros([4, 4]), 0, 1), /"ph" expected an integer in \[1,/);
  assert.throws(() => patchSum(RingTensor.zeros([4]), 1, 1), /"x" expected shape \[\.\.\., H, W\]/);
});

test.run();
