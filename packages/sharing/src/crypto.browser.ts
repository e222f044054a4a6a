/**
 * crypto.ts for browsers: X25519 (@noble/curves), HKDF and SHA-256 (@noble/hashes), AES-128-CTR on the
 * ring's wasm kernels (T-tables: about twice noble's JS AES), synchronous like node:crypto (WebCrypto's
 * are asynchronous, and the PRF streams are read inside synchronous protocol steps). The same bytes as
 * crypto.ts (test/crypto.test.ts).
 * @module
 */
import { aesCtrStream } from '@si/ring';
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

/** As crypto.ts: the keystream from `iv`, read in order, at most 64 KiB per call. */
export function aesCtrKeystream(key: AesKey, iv: Uint8Array): (n: number) => Uint8Array {
  return aesCtrStream(AesKey.bytes(key), iv);
}
