import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getThreads, matmul, RingTensor, setThreads } from '../src/index.ts';
import { narrowProductCount } from '../src/matmul.ts';
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

// The narrow kernel (a's values all in signed 32 bits: fixed-point weights) against the same BigInt
// reference, on b's words that flip its sign correction (low word 0x80000000 and 0xffffffff, high word
// 0xffffffff) and a's 32-bit edges; one value of a just outside 32 bits sends the product to the general kernel.
const A32 = [0n, 1n, -1n, 2n ** 31n - 1n, -(2n ** 31n), 12345n, -4096n];
const B_WORDS = [2n ** 31n, 2n ** 32n - 1n, -1n, -(2n ** 31n), 2n ** 63n - 1n, -(2n ** 63n), 2n ** 32n + 2n ** 31n, -(2n ** 32n) - 1n];
const narrowTensor = (shape: number[], edgeRate: number) => {
  const t = randomTensor(r, shape, 0);
  for (let i = 0; i < t.size; i++) t.data[i] = r() < edgeRate ? A32[randInt(r, 0, A32.length - 1)]! : BigInt(r.int32());
  return t;
};
const edgyB = (shape: number[]) => {
  const t = randomTensor(r, shape);
  for (let i = 0; i < t.size; i++) if (r() < 0.3) t.data[i] = B_WORDS[randInt(r, 0, B_WORDS.length - 1)]!;
  return t;
};

test('a in signed 32 bits: the narrow kernel, equal to the BigInt reference (sign-correction edges)', () => {
  for (let trial = 0; trial < 40; trial++) {
    const m = randInt(r, 1, 13), k = randInt(r, 1, 40), n = randInt(r, 1, 13);
    const a = narrowTensor([m, k], 0.3), b = edgyB([k, n]);
    const before = narrowProductCount();
    assert.is(sameI64(matmul(a, b).data, matmulRef(a, b)), true, `${m}x${k}x${n}`);
    assert.is(narrowProductCount(), before + 1, 'ran on the narrow kernel');
  }
  const a = RingTensor.from([-(2n ** 31n), 2n ** 31n - 1n, -1n, -(2n ** 31n)], [2, 2]);
  const b = RingTensor.from([2n ** 31n, 2n ** 32n - 1n, -(2n ** 63n), -1n], [2, 2]);
  assert.is(sameI64(matmul(a, b).data, matmulRef(a, b)), true, 'all edges');
});

test('one value of a outside signed 32 bits: the general kernel, same reference', () => {
  for (const outside of [2n ** 31n, -(2n ** 31n) - 1n, 2n ** 32n]) {
    const a = narrowTensor([9, 33], 0.2), b = edgyB([33, 7]);
    a.data[randInt(r, 0, a.size - 1)] = outside;
    const before = narrowProductCount();
    assert.is(sameI64(matmul(a, b).data, matmulRef(a, b)), true, String(outside));
    assert.is(narrowProductCount(), before, 'ran on the general kernel');
  }
});

test('narrow and general kernels on two threads (each job packs its own panels)', () => {
  const before = getThreads();
  try {
    setThreads(2);
    const a = narrowTensor([67, 301], 0.1), b = edgyB([301, 203]);
    assert.is(sameI64(matmul(a, b).data, matmulRef(a, b)), true);
  } finally {
    setThreads(before);
  }
});

test('deep products (k > 512: blocked 256 deep, the tiles accumulating) equal the reference, both kernels', () => {
  for (const k of [513, 600, 1031]) {
    const m = randInt(r, 5, 11), n = randInt(r, 5, 11);
    const b = edgyB([k, n]);
    for (const a of [randomTensor(r, [m, k]), narrowTensor([m, k], 0.2)])
      assert.is(sameI64(matmul(a, b).data, matmulRef(a, b)), true, `${m}x${k}x${n}`);
  }
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
