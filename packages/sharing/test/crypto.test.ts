// The browser's crypto (noble, pure JS) against Node's (OpenSSL): the same bytes for every primitive the
// parties use, so a browser client and a Node service agree on keys and PRF streams.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import * as node from '../src/crypto.ts';
import * as web from '../src/crypto.browser.ts';

test('X25519: a Node key pair and a browser key pair agree on the same secret', () => {
  for (let i = 0; i < 5; i++) {
    const a = node.x25519Ephemeral(), b = web.x25519Ephemeral();
    assert.equal(a.agree(b.publicKey), b.agree(a.publicKey));
    assert.is(a.publicKey.length, 32);
    assert.is(b.publicKey.length, 32);
  }
});

test('HKDF-SHA256 and SHA-256 give the same bytes', () => {
  for (const n of [0, 1, 16, 32, 100]) {
    const secret = randomBytes(32), salt = randomBytes(4), info = randomBytes(n);
    assert.equal(node.hkdfSha256(secret, salt, info, 16), web.hkdfSha256(secret, salt, info, 16));
    assert.equal(node.sha256('si/1', info, Uint8Array.of(0)), web.sha256('si/1', info, Uint8Array.of(0)));
  }
});

test('AES-128-CTR keystreams are equal, read in pieces of any size, across counter carries', () => {
  const ivs = [randomBytes(16), Uint8Array.from({ length: 16 }, (_, i) => (i < 12 ? 7 : 255)), new Uint8Array(16).fill(255)];
  for (const iv of ivs) {
    const key = randomBytes(16);
    const a = node.aesCtrKeystream(node.aesKey(key), iv), b = web.aesCtrKeystream(web.aesKey(key), iv);
    for (const n of [1, 15, 17, 16, 0, 65_536, 40_003, 5]) assert.equal(new Uint8Array(a(n)), b(n), `piece of ${n} bytes`);
  }
});

test('the browser key holder prints no key bytes', () => {
  const key = web.aesKey(Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i));
  assert.not.match(JSON.stringify(key) + String(key), /a0|160/);
});

test.run();
