import { test } from 'uvu';
import * as assert from 'uvu/assert';
import seedrandom from 'seedrandom';
import { carryDigitBits, carryDigits, carryFindZero, carryPackedBytes, carryPrime } from '../src/index.ts';

/** A byte source from a seeded generator (test data only; the protocol reads PRF streams). */
const bytesFrom = (seed: string) => {
  const rnd = seedrandom(seed);
  return (out: Uint8Array): void => {
    for (let i = 0; i < out.length; i++) out[i] = Math.floor(rnd() * 256);
  };
};
const sources = (seed: string) => ({ s: bytesFrom(`${seed}s`), rho: bytesFrom(`${seed}r`), perm: bytesFrom(`${seed}p`) });

test('carryPrime: the smallest prime above 3 * 2^m + 2, below 2^(m + 2) (digits of m + 2 bits)', () => {
  assert.is(carryPrime(1), 11);
  assert.is(carryPrime(15), 98317);
  for (const m of [1, 2, 3, 8, 15, 19, 24, 30]) {
    const p = carryPrime(m);
    assert.ok(p > 3 * 2 ** m + 2 && p < 2 ** 32, `m=${m}: ${p}`);
    for (let d = 2; d * d <= p; d++) assert.ok(p % d !== 0, `${p} divisible by ${d}`);
    assert.is(carryPackedBytes(3, m), Math.ceil((3 * (m + 1) * carryDigitBits(m)) / 8));
  }
  assert.throws(() => carryPrime(31), /"m"/);
});

test('carry digits: P0 and P1 with the same mask sources give the helper beta XOR carry, for every a, b, beta at m = 3', () => {
  const m = 3, a: number[] = [], b: number[] = [], beta: number[] = [];
  for (let x = 0; x < 8; x++) for (let y = 0; y < 8; y++) for (const t of [0, 1]) (a.push(x), b.push(y), beta.push(t));
  const B = Uint8Array.from(beta);
  const d0 = carryDigits(Uint32Array.from(a), B, sources('k'), m, 0), d1 = carryDigits(Uint32Array.from(b), B, sources('k'), m, 1);
  const got = carryFindZero(d0, d1, a.length, m);
  assert.equal([...got], a.map((x, i) => beta[i]! ^ (x + b[i]! >= 8 ? 1 : 0)));
  // Different mask sources at P0 and P1 (a broken stream) break it: the masks must be common.
  const wrong = carryFindZero(carryDigits(Uint32Array.from(a), B, sources('k'), m, 0), carryDigits(Uint32Array.from(b), B, sources('other'), m, 1), a.length, m);
  assert.not.equal([...wrong], [...got]);
});

test('carry digits: malformed messages and inputs are refused', () => {
  const m = 4, n = 5, bytes = carryPackedBytes(n, m), p = carryPrime(m), bits = carryDigitBits(m);
  const ok = new Uint8Array(bytes);
  assert.equal([...carryFindZero(ok, ok, n, m)], [1, 1, 1, 1, 1]); // all-zero digits sum to zero
  assert.throws(() => carryFindZero(ok.subarray(1), ok, n, m), /d0/);
  const big = ok.slice();
  for (let b = 0; b < bits; b++) big[b >> 3]! |= 1 << (b & 7); // digit 0 = 2^bits - 1 >= p
  assert.ok(2 ** bits - 1 >= p);
  assert.throws(() => carryFindZero(ok, big, n, m), /P1's carry digit 0 is not in/);
  const pad = ok.slice();
  if ((n * (m + 1) * bits) % 8 !== 0) {
    pad[bytes - 1] = 0x80;
    assert.throws(() => carryFindZero(pad, ok, n, m), /padding/);
  }
  assert.throws(() => carryDigits(Uint32Array.from([16]), new Uint8Array(1), sources('x'), m, 0), /4-bit value/);
});

test.run();
