/**
 * Operating-system randomness through WebCrypto's getRandomValues (Node >= 20 and browsers alike), in
 * 64 KiB pieces (its limit per call). For masks only this party knows; never for test data.
 * @module
 */
const MAX = 65536;

/** Fills `out` with cryptographically secure random bytes and returns it. */
export function secureRandom(out: Uint8Array): Uint8Array {
  for (let o = 0; o < out.length; o += MAX) globalThis.crypto.getRandomValues(out.subarray(o, Math.min(out.length, o + MAX)) as Uint8Array<ArrayBuffer>);
  return out;
}
