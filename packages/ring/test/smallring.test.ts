import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { addK, bitsMsbFirst, bitsMsbFirstK, msbK, negK, reduceK, RingTensor, subK, toSignedK } from '../src/index.ts';
import { randomTensor, rng } from './_helpers.ts';

const r = rng('smallring');

test('reduce mod 2^k commutes with addition of Z_2^64 shares', () => {
  for (const k of [1, 8, 16, 20, 31, 32]) {
    const x0 = randomTensor(r, [500]), x1 = randomTensor(r, [500]);
    const x = x0.add(x1);
    const sum = addK(reduceK(x0, k), reduceK(x1, k), k);
    assert.equal([...sum], [...reduceK(x, k)], `k=${k}`);
    const mod = 2n ** BigInt(k);
    for (let i = 0; i < 50; i++) assert.is(BigInt(sum[i]!), BigInt.asUintN(64, x.data[i]!) % mod);
  }
});

test('add, sub, neg, msb and signed reading in Z_2^k', () => {
  const k = 16;
  const a = Uint32Array.from([0, 1, 32767, 32768, 65535, 40000]);
  const b = Uint32Array.from([65535, 65535, 1, 1, 1, 30000]);
  assert.equal([...addK(a, b, k)], [65535, 0, 32768, 32769, 0, 4464]);
  assert.equal([...subK(a, b, k)], [1, 2, 32766, 32767, 65534, 10000]);
  assert.equal([...negK(a, k)], [0, 65535, 32769, 32768, 1, 25536]);
  assert.equal([...msbK(a, k)], [0, 0, 0, 1, 1, 1]);
  assert.equal([...toSignedK(a, k)], [0, 1, 32767, -32768, -1, -25536]);
  const full = Uint32Array.from([0xffffffff, 0x80000000]);
  assert.equal([...addK(full, full, 32)], [0xfffffffe, 0]);
  assert.equal([...msbK(full, 32)], [1, 1]);
  assert.throws(() => addK(a, b, 33), /"k" expected an integer in \[1, 32\]/);
  assert.throws(() => addK(a, b.subarray(1), 16), /"b" expected 6 elements, got 5/);
});

test('bit decomposition is MSB first and matches BigInt', () => {
  const x = RingTensor.from([-1n, 0n, 5n, -(2n ** 63n), 2n ** 40n + 3n]);
  const bits = bitsMsbFirst(x, 64);
  for (let i = 0; i < x.size; i++) {
    const u = BigInt.asUintN(64, x.data[i]!);
    for (let j = 0; j < 64; j++) assert.is(bits[i * 64 + j], Number((u >> BigInt(63 - j)) & 1n), `elt ${i} bit ${j}`);
  }
  assert.equal([...bitsMsbFirst(RingTensor.from([5n, -2n]), 4)], [0, 1, 0, 1, 1, 1, 1, 0]);
  assert.equal([...bitsMsbFirst(RingTensor.from([2n ** 33n + 1n]), 35)].join(''), '01' + '0'.repeat(32) + '1');
  assert.equal([...bitsMsbFirstK(Uint32Array.from([6, 1]), 3)], [1, 1, 0, 0, 0, 1]);
});

test.run();
