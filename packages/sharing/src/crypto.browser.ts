/**
 * crypto.ts for browsers: X25519 (@noble/curves), HKDF and SHA-256 (@noble/hashes), AES-128-CTR
 * (@noble/ciphers), synchronous like node:crypto (WebCrypto's are asynchronous, and the PRF streams are
 * read inside synchronous protocol steps). The same bytes as crypto.ts (test/crypto.test.ts).
 * @module
 */
import { ctr } from '@noble/ciphers/aes.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';

export function x25519Ephemeral(): { publicKey: Uint8Array; agree(theirs: Uint8Array): Uint8Array } {
  const secretKey = x25519.utils.randomSecretKey();
  return { publicKey: x25519.getPublicKey(secretKey), agree: (theirs) => x25519.getSharedSecret(secretKey, theirs) };
}

export function hkdfSha256(secret: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  return hkdf(nobleSha256, secret, salt, info, length);
}

export function sha256(...parts: (Uint8Array | string)[]): Uint8Array {
  const h = nobleSha256.create();
  for (const p of parts) h.update(typeof p === 'string' ? new TextEncoder().encode(p) : p);
  return h.digest();
}

/** The key in a private field: printing or serialising the holder shows no key bytes. */
export class AesKey {
  readonly #key: Uint8Array;
  constructor(key: Uint8Array) {
    this.#key = Uint8Array.from(key);
  }
  /** @internal */
  static bytes(k: AesKey): Uint8Array {
    return k.#key;
  }
}

export function aesKey(key: Uint8Array): AesKey {
  return new AesKey(key);
}

/** Adds `blocks` to a 128-bit big-endian counter. */
function addCounter(iv: Uint8Array, blocks: number): Uint8Array {
  const out = Uint8Array.from(iv);
  let carry = blocks;
  for (let i = 15; i >= 0 && carry > 0; i--) {
    const v = out[i]! + (carry % 256);
    out[i] = v & 255;
    carry = Math.floor(carry / 256) + (v >> 8);
  }
  return out;
}

/** As crypto.ts: the keystream from `iv`, read in order, at most 64 KiB per call. */
export function aesCtrKeystream(key: AesKey, iv: Uint8Array): (n: number) => Uint8Array {
  let pos = 0;
  return (n) => {
    // From block floor(pos / 16) on, dropping the bytes of that block already read.
    const skip = pos % 16, first = (pos - skip) / 16;
    const stream = ctr(AesKey.bytes(key), addCounter(iv, first)).encrypt(new Uint8Array(Math.ceil((skip + n) / 16) * 16));
    pos += n;
    return stream.subarray(skip, skip + n);
  };
}
