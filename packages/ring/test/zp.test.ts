import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { addZp, bitsOfWords, zpFindZero, mulZp, packedZpBytes, packZp7, sampleZp, samplePermutations, subZp, unpackZp7, ZP } from '../src/index.ts';
import { rng } from './_helpers.ts';

const r = rng('zp');

test('7-bit packing round-trips for every length and uses ceil(7n/8) bytes', () => {
  for (let n = 0; n < 70; n++) {
    const d = Uint8Array.from({ length: n }, () => Math.floor(r() * ZP));
    const p = packZp7(d);
    assert.is(p.length, Math.ceil((7 * n) / 8));
    assert.is(p.length, packedZpBytes(n));
    assert.equal([...unpackZp7(p, n)], [...d]);
  }
  assert.equal([...packZp7(Uint8Array.from([66, 66, 66, 66, 66, 66, 66, 66]))].length, 7);
});

test('malformed packed streams are refused', () => {
  assert.throws(() => packZp7(Uint8Array.from([1, 67])), /"digits\[1\]" expected a value in \[0, 67\), got 67/);
  assert.throws(() => unpackZp7(Uint8Array.from([0x7f]), 1), /packed Z_67 digit 0 is 127/);
  assert.throws(() => unpackZp7(Uint8Array.from([0x80]), 1), /non-zero padding bits/);
  assert.throws(() => unpackZp7(new Uint8Array(3), 5), /"bytes" expected 5 bytes, got 3/);
});

test('Z_67 arithmetic', () => {
  const a = Uint8Array.from([0, 66, 33, 5]), b = Uint8Array.from([66, 66, 34, 60]);
  assert.equal([...addZp(a, b)], [66, 65, 0, 65]);
  assert.equal([...subZp(a, b)], [1, 0, 66, 12]);
  assert.equal([...mulZp(a, b)], [0, 1, (33 * 34) % 67, (5 * 60) % 67]);
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
  assert.equal([...zpFindZero(packZp7(d0), packZp7(d1), 3, 2)], [0, 1, 1]);
  assert.equal([...bitsOfWords(Uint32Array.from([5, 0xffff]), 4)], [0, 1, 0, 1, 1, 1, 1, 1]);
});

test.run();
