import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { addZp, mulZp, packedZpBytes, packZp7, subZp, unpackZp7, ZP } from '../src/index.ts';
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

test.run();
