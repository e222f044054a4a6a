/**
 * Sampling from a PRF keystream for the comparison protocols: uniform Z_67 digits, non-zero digits and
 * independent random permutations, by rejection sampling on bytes (no modulo bias). Both holders of a
 * stream run the same sampler on the same keystream, so they get the same values.
 * @module
 */
import type { Keystream } from '@si/sharing';
import { ZP } from '@si/ring';

/** Buffered byte reader over a keystream. */
class Bytes {
  private buf: Uint8Array = new Uint8Array(0);
  private at = 0;
  constructor(private readonly ks: Keystream, private readonly chunk: number) {}
  next(): number {
    if (this.at === this.buf.length) {
      this.buf = this.ks.bytes(this.chunk);
      this.at = 0;
    }
    return this.buf[this.at++]!;
  }
}

/** n uniform digits in [0, 67): a byte b < 201 = 3 * 67 gives b mod 67. */
export function uniformDigits(ks: Keystream, n: number): Uint8Array {
  const out = new Uint8Array(n);
  const src = new Bytes(ks, Math.ceil(n * 1.3) + 64);
  for (let i = 0; i < n; ) {
    const b = src.next();
    if (b < 3 * ZP) out[i++] = b % ZP;
  }
  return out;
}

/** n uniform non-zero digits in [1, 67): a byte b < 198 = 3 * 66 gives 1 + b mod 66. */
export function nonZeroDigits(ks: Keystream, n: number): Uint8Array {
  const out = new Uint8Array(n);
  const src = new Bytes(ks, Math.ceil(n * 1.3) + 64);
  for (let i = 0; i < n; ) {
    const b = src.next();
    if (b < 3 * (ZP - 1)) out[i++] = 1 + (b % (ZP - 1));
  }
  return out;
}

/**
 * n independent uniform permutations of [0, m) (m <= 128), row i at out[i*m .. i*m+m): Fisher–Yates, each
 * index drawn from one byte by rejection.
 */
export function permutations(ks: Keystream, n: number, m: number): Uint8Array {
  if (m > 128) throw new RangeError(`permutations of more than 128 positions are not supported (got ${m})`);
  const out = new Uint8Array(n * m);
  const src = new Bytes(ks, Math.ceil(n * m * 1.2) + 64);
  const limit = new Uint16Array(m + 1);
  for (let b = 1; b <= m; b++) limit[b] = 256 - (256 % b);
  for (let i = 0; i < n; i++) {
    const o = i * m;
    for (let b = 0; b < m; b++) out[o + b] = b;
    for (let b = m - 1; b > 0; b--) {
      let r: number;
      do r = src.next();
      while (r >= limit[b + 1]!);
      const j = r % (b + 1);
      const t = out[o + b]!;
      out[o + b] = out[o + j]!;
      out[o + j] = t;
    }
  }
  return out;
}

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
