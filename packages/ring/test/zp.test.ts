import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { addZp, bitsOfWords, zpFindZero, mulZp, packedZpBytes, packZp, pcPrime, sampleZp, samplePermutations, subZp, unpackZp, zpDigitBits, ZP } from '../src/index.ts';
import { rng } from './_helpers.ts';

const r = rng('zp');

const PRIMES = [3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67];

test('pcPrime(m) is the smallest prime above m + 1; digits take ceil(log2 p) bits', () => {
  for (let m = 1; m <= 65; m++) {
    const p = pcPrime(m);
    assert.ok(p > m + 1 && PRIMES.includes(p), `m=${m}: ${p}`);
    assert.ok(PRIMES.filter((q) => q > m + 1 && q < p).length === 0, `m=${m}: a smaller prime above ${m + 1}`);
  }
  assert.equal([pcPrime(15), pcPrime(19), pcPrime(31), pcPrime(63), pcPrime(64)], [17, 23, 37, 67, 67]);
  assert.equal([zpDigitBits(3), zpDigitBits(17), zpDigitBits(23), zpDigitBits(37), zpDigitBits(67)], [2, 5, 5, 6, 7]);
  assert.throws(() => pcPrime(66), /"m" expected an integer in \[1, 65\]/);
  assert.throws(() => zpDigitBits(15), /"p" expected a prime in \[3, 67\], got 15/);
});

test('packing round-trips for every prime and length and uses ceil(bits * n / 8) bytes', () => {
  for (const p of PRIMES) {
    for (let n = 0; n < 40; n++) {
      const d = Uint8Array.from({ length: n }, () => Math.floor(r() * p));
      const packed = packZp(d, p);
      assert.is(packed.length, Math.ceil((zpDigitBits(p) * n) / 8));
      assert.is(packed.length, packedZpBytes(n, p));
      assert.equal([...unpackZp(packed, n, p)], [...d], `p=${p} n=${n}`);
    }
  }
  assert.equal([...packZp(Uint8Array.from([66, 66, 66, 66, 66, 66, 66, 66]))].length, 7);
  assert.equal([...packZp(Uint8Array.from([16, 16, 16, 16, 16, 16, 16, 16]), 17)].length, 5);
});

test('malformed packed streams are refused', () => {
  assert.throws(() => packZp(Uint8Array.from([1, 67])), /"digits\[1\]" expected a value in \[0, 67\), got 67/);
  assert.throws(() => packZp(Uint8Array.from([1, 17]), 17), /"digits\[1\]" expected a value in \[0, 17\), got 17/);
  assert.throws(() => unpackZp(Uint8Array.from([0x7f]), 1), /packed Z_67 digit 0 is 127/);
  assert.throws(() => unpackZp(Uint8Array.from([0x1f]), 1, 17), /packed Z_17 digit 0 is 31/);
  assert.throws(() => unpackZp(Uint8Array.from([0x80]), 1), /non-zero padding bits/);
  assert.throws(() => unpackZp(Uint8Array.from([0x20]), 1, 17), /packed Z_17 stream has non-zero padding bits/);
  assert.throws(() => unpackZp(new Uint8Array(3), 5), /"bytes" expected 5 bytes, got 3/);
});

test('rejection sampling equals a plain reference for every prime (every byte value, zero and non-zero digits)', () => {
  const cyclic = () => {
    let at = 0;
    return (out: Uint8Array) => {
      for (let i = 0; i < out.length; i++) out[i] = at++ & 255;
    };
  };
  for (const p of PRIMES) {
    for (const nonZero of [false, true]) {
      const q = nonZero ? p - 1 : p, limit = 256 - (256 % q);
      const want = Array.from({ length: 512 }, (_, i) => i & 255).filter((b) => b < limit).map((b) => (b % q) + (nonZero ? 1 : 0));
      assert.equal([...sampleZp(cyclic(), want.length, nonZero, p)], want, `p=${p} nonZero=${nonZero}`);
    }
  }
});

test('Z_p arithmetic', () => {
  const a = Uint8Array.from([0, 66, 33, 5]), b = Uint8Array.from([66, 66, 34, 60]);
  assert.equal([...addZp(a, b)], [66, 65, 0, 65]);
  assert.equal([...subZp(a, b)], [1, 0, 66, 12]);
  assert.equal([...mulZp(a, b)], [0, 1, (33 * 34) % 67, (5 * 60) % 67]);
  const c = Uint8Array.from([0, 16, 9]), d = Uint8Array.from([16, 16, 8]);
  assert.equal([...addZp(c, d, undefined, 17)], [16, 15, 0]);
  assert.equal([...subZp(c, d, 17)], [1, 0, 1]);
  assert.equal([...mulZp(c, d, undefined, 17)], [0, 1, 4]);
});

/** A deterministic byte stream (test data). */
function stream(seed: string): (out: Uint8Array) => void {
  const r = rng(seed);
  return (out) => {
    for (let i = 0; i < out.length; i++) out[i] = Math.floor(r() * 256);
  };
}

test('digit sampling: deterministic per stream, in range, uniform', () => {
  const a = sampleZp(stream('s'), 20000), b = sampleZp(stream('s'), 20000);
  assert.equal([...a], [...b]);
  const counts = new Array(ZP).fill(0);
  for (const v of a) counts[v]++;
  assert.ok(counts.every((c) => c > 200 && c < 400), `counts ${Math.min(...counts)}..${Math.max(...counts)}`);
  const nz = sampleZp(stream('t'), 20000, true);
  assert.ok(nz.every((v) => v >= 1 && v < ZP));
  assert.is(new Set(nz).size, ZP - 1);
  // Chunks are read in order until enough digits are accepted.
  let calls = 0;
  const chunks: number[] = [];
  const recording = (out: Uint8Array) => (chunks.push(out.length), stream(`c${chunks.length}`)(out));
  assert.is(sampleZp(recording, 100).length, 100);
  assert.ok(chunks[0]! >= 130, 'reads enough for the expected rejections at once');
  const allRejected = (out: Uint8Array) => (calls++, out.fill(calls < 3 ? 255 : 7));
  assert.equal([...sampleZp(allRejected, 4)], [7, 7, 7, 7]);
  assert.is(calls, 3, 'a chunk without accepted bytes is followed by another');
});

test('permutations: every row is a permutation, rows differ, positions uniform', () => {
  const n = 3000, m = 15;
  const p = samplePermutations(stream('p'), n, m);
  const firstAt = new Array(m).fill(0);
  for (let i = 0; i < n; i++) {
    const row = [...p.subarray(i * m, i * m + m)];
    assert.equal([...row].sort((a, b) => a - b), [...Array(m).keys()]);
    firstAt[row.indexOf(0)]++;
  }
  assert.ok(firstAt.every((c) => c > (n / m) * 0.6 && c < (n / m) * 1.4), `positions of 0: ${firstAt.join(',')}`);
  assert.equal([...samplePermutations(stream('p'), n, m)], [...p]);
  assert.throws(() => samplePermutations(stream('p'), 1, 129), /"m" expected an integer in \[1, 128\]/);
});

test('zero search over two packed digit vectors; bits of words', () => {
  const d0 = Uint8Array.from([1, 2, 3, 66, 0, 5]), d1 = Uint8Array.from([5, 5, 5, 1, 0, 5]);
  assert.equal([...zpFindZero(packZp(d0), packZp(d1), 3, 2, ZP)], [0, 1, 1]);
  assert.equal([...bitsOfWords(Uint32Array.from([5, 0xffff]), 4)], [0, 1, 0, 1, 1, 1, 1, 1]);
});

test.run();
