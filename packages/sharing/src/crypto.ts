/**
 * The primitives the parties' key agreement and PRF streams use, on node:crypto. The browser build
 * (@si/web) swaps in crypto.browser.ts: the same functions on audited pure-JS implementations (noble),
 * byte for byte the same results (test/crypto.test.ts).
 * @module
 */
import { createCipheriv, createHash, createPublicKey, createSecretKey, diffieHellman, generateKeyPairSync, hkdfSync, type KeyObject } from 'node:crypto';

const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');

/** An ephemeral X25519 key pair: its 32-byte public key, and the shared secret with a peer's. */
export function x25519Ephemeral(): { publicKey: Uint8Array; agree(theirs: Uint8Array): Uint8Array } {
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  return {
    publicKey: new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }).subarray(SPKI_X25519.length)),
    agree: (theirs) => new Uint8Array(diffieHellman({ privateKey, publicKey: createPublicKey({ key: Buffer.concat([SPKI_X25519, theirs]), format: 'der', type: 'spki' }) })),
  };
}

/** HKDF-SHA256 (RFC 5869). */
export function hkdfSha256(secret: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', secret, salt, info, length));
}

/** SHA-256 of the parts, concatenated. */
export function sha256(...parts: (Uint8Array | string)[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/** An AES-128 key held where printing or serialising shows no key bytes. */
export type AesKey = KeyObject;

export function aesKey(key: Uint8Array): AesKey {
  return createSecretKey(key);
}

const ZERO = new Uint8Array(1 << 16);

/**
 * The AES-128-CTR keystream from `iv` (a 128-bit big-endian counter), read in order, at most 64 KiB per
 * call; the bytes returned are valid until the next call.
 */
export function aesCtrKeystream(key: AesKey, iv: Uint8Array): (n: number) => Uint8Array {
  const cipher = createCipheriv('aes-128-ctr', key, iv);
  return (n) => {
    if (n > ZERO.length) throw new RangeError(`keystream pieces are at most ${ZERO.length} bytes, asked for ${n}`);
    return cipher.update(ZERO.subarray(0, n));
  };
}
