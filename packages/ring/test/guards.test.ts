import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { abytes, ai64, aint, ashape, conv2d, encodeFixed, matmul, patchSum, RingTensor } from '../src/index.ts';

// Values of the wrong kind, fed to every guard and entry point.
const WRONG: unknown[] = [undefined, null, 'x', 1.5, -1, NaN, {}, [], () => 0, new Uint8Array(2), 1n, Symbol('s')];

test('guards reject every wrong-kind value with TypeError or RangeError naming the argument', () => {
  for (const v of WRONG) {
    assert.throws(() => aint(v, 'n'), (e: Error) => (e instanceof TypeError || e instanceof RangeError) && e.message.startsWith('"n" expected'));
    if (!(v instanceof Uint8Array)) assert.throws(() => abytes(v, 'buf'), (e: Error) => e instanceof TypeError && e.message.startsWith('"buf" expected'));
    assert.throws(() => ai64(v, 'x0'), (e: Error) => e instanceof TypeError && e.message.startsWith('"x0" expected'));
  }
  assert.throws(() => ashape([1, 3, 28, 28], [1, 3, 32, 32], 'input'), /"input" expected shape \[1,3,32,32\], got \[1,3,28,28\]/);
  assert.is(aint(5, 'n', 0, 5), 5);
});

test('entry points reject non-tensors without crashing the kernels', () => {
  const t = RingTensor.zeros([1, 1, 2, 2]);
  for (const v of WRONG) {
    assert.throws(() => matmul(v as RingTensor, t));
    assert.throws(() => conv2d(t, v as RingTensor));
    assert.throws(() => patchSum(v as RingTensor, 1, 1));
    assert.throws(() => new RingTensor(v as BigInt64Array, [1]));
  }
  assert.throws(() => encodeFixed('abc' as unknown as number[], 12), /"values\[0\]" = a does not fit/);
});

test.run();
