/**
 * Sampling from a PRF keystream for the comparison protocols (the loops run in @si/ring's WebAssembly):
 * uniform Z_67 digits, non-zero digits, independent permutations (rejection sampling: no modulo bias),
 * bits and k-bit words. Both holders of a stream run the same sampler, so they get the same values.
 * @module
 */
import { sampleZp, samplePermutations } from '@si/ring';
import type { Keystream } from '@si/sharing';

/** A keystream as a byte source for @si/ring's samplers. */
export const source = (ks: Keystream) => (out: Uint8Array): void => void ks.fill(out);

/** n uniform digits in [0, 67). */
export const uniformDigits = (ks: Keystream, n: number): Uint8Array => sampleZp(source(ks), n);

/** n uniform non-zero digits in [1, 67). */
export const nonZeroDigits = (ks: Keystream, n: number): Uint8Array => sampleZp(source(ks), n, true);

/** n independent uniform permutations of [0, m), row i at [i*m, i*m+m). */
export const permutations = (ks: Keystream, n: number, m: number): Uint8Array => samplePermutations(source(ks), n, m);

/** n uniform bits (0/1 bytes). */
export function bits(ks: Keystream, n: number): Uint8Array {
  const raw = ks.bytes(Math.ceil(n / 8));
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (raw[i >> 3]! >> (i & 7)) & 1;
  return out;
}

/** n uniform k-bit values (k <= 32). */
export function words(ks: Keystream, n: number, k: number): Uint32Array {
  const out = new Uint32Array(ks.bytes(4 * n).buffer);
  if (k < 32) {
    const mask = (2 ** k - 1) >>> 0;
    for (let i = 0; i < n; i++) out[i] = (out[i]! & mask) >>> 0;
  }
  return out;
}
