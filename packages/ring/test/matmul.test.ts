import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getThreads, matmul, RingTensor, setThreads } from '../src/index.ts';
import { workerJobCount } from '../src/_pool.ts';
import { matmulRef, randInt, randomTensor, rng, sameI64 } from './_helpers.ts';

const r = rng('matmul');

test('random shapes (all remainders mod 4) equal the BigInt reference', () => {
  for (let trial = 0; trial < 60; trial++) {
    const m = randInt(r, 1, 13), k = randInt(r, 1, 40), n = randInt(r, 1, 13);
    const a = randomTensor(r, [m, k]), b = randomTensor(r, [k, n]);
    const c = matmul(a, b);
    assert.equal(c.shape, [m, n]);
    assert.is(sameI64(c.data, matmulRef(a, b)), true, `${m}x${k}x${n}`);
  }
});

test('wrap-around: products of edge values', () => {
  const a = RingTensor.from([2n ** 63n - 1n, -(2n ** 63n), -1n, 2n ** 62n, 2n ** 32n, -3n], [2, 3]);
  const b = RingTensor.from([2n ** 63n - 1n, -1n, -(2n ** 63n), 2n ** 62n, 7n, 2n ** 32n + 1n], [3, 2]);
  assert.is(sameI64(matmul(a, b).data, matmulRef(a, b)), true);
});

test('degenerate shapes: k = 0 gives zeros, empty m or n gives empty', () => {
  assert.equal([...matmul(RingTensor.zeros([2, 0]), RingTensor.zeros([0, 3])).data], [0n, 0n, 0n, 0n, 0n, 0n]);
  assert.equal(matmul(RingTensor.zeros([0, 4]), RingTensor.zeros([4, 3])).shape, [0, 3]);
  assert.equal(matmul(RingTensor.zeros([2, 4]), RingTensor.zeros([4, 0])).shape, [2, 0]);
});

test('large products use the worker threads and give the same result as one thread', () => {
  const a = randomTensor(r, [67, 301]), b = randomTensor(r, [301, 203]);
  const want = matmulRef(a, b);
  const before = getThreads();
  try {
    setThreads(1);
    assert.is(sameI64(matmul(a, b).data, want), true, 'one thread');
    const jobs = workerJobCount();
    setThreads(2);
    assert.is(sameI64(matmul(a, b).data, want), true, 'two threads');
    assert.is(workerJobCount(), jobs + 1, 'one range ran on a worker');
    setThreads(3);
    assert.is(sameI64(matmul(a, b).data, want), true, 'three threads');
  } finally {
    setThreads(before);
  }
});

test('shape errors name the operand', () => {
  assert.throws(() => matmul(RingTensor.zeros([2, 3]), RingTensor.zeros([4, 2])), /"b" expected shape \[3,\*\], got \[4,2\]/);
  assert.throws(() => matmul(RingTensor.zeros([6]), RingTensor.zeros([6, 1])), /"a" expected shape \[m,k\], got \[6\]/);
  assert.throws(() => setThreads(0), /"threads" expected an integer in \[1, 64\]/);
});

test.run();
