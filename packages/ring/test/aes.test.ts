// The wasm AES-128-CTR (T-tables) against OpenSSL's (node:crypto): the FIPS-197 example, random keys and
// counters (including counter carries across 32-bit words), keystreams read in pieces of any size.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createCipheriv, randomBytes } from 'node:crypto';
import { aesCtrStream } from '../src/index.ts';

const openssl = (key: Uint8Array, iv: Uint8Array, n: number) => new Uint8Array(createCipheriv('aes-128-ctr', key, iv).update(new Uint8Array(n)));

test('FIPS-197 C.1: AES-128 of 00112233...eeff under 000102...0f is 69c4e0d86a7b0430d8cdb78070b4c55a', () => {
  const key = Uint8Array.from({ length: 16 }, (_, i) => i), block = Uint8Array.from({ length: 16 }, (_, i) => i * 0x11);
  // In counter mode the first keystream block is the encryption of the counter block itself.
  assert.is(Buffer.from(aesCtrStream(key, block)(16)).toString('hex'), '69c4e0d86a7b0430d8cdb78070b4c55a');
});

test('equal to node:crypto on random keys and counters, in pieces, across carries', () => {
  const ivs = [randomBytes(16), Uint8Array.from({ length: 16 }, (_, i) => (i < 12 ? 3 : 255)), new Uint8Array(16).fill(255), Uint8Array.from({ length: 16 }, (_, i) => (i < 8 ? 0 : i === 11 ? 0 : 255))];
  for (const iv of ivs) {
    const key = randomBytes(16), total = 100_000;
    const want = openssl(key, iv, total), next = aesCtrStream(key, iv);
    const got = new Uint8Array(total);
    let o = 0;
    for (const n of [1, 15, 16, 17, 0, 31, 4096, 33_333]) (got.set(next(n), o), (o += n));
    got.set(next(total - o), o);
    assert.equal(got, want);
  }
});

test.run();
