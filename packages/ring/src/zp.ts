/**
 * Z_p digit vectors for PrivateCompare (p = 67): one digit per byte in memory, 7 bits per digit on the
 * wire (67 < 2^7), packed LSB-first. The hot loops (sampling from PRF bytes, per-element permutations,
 * the comparison digits, zero search, packing) run in WebAssembly.
 * @module
 */
import { abytes, aint } from './guards.ts';
import { alloc, copyInBytes, copyOutBytes, heap, kernels, scoped } from './_wasm.ts';

/** The PrivateCompare prime (SecureNN): the smallest prime above 64 + 2. */
export const ZP = 67;

/** Bytes needed to send n digits at 7 bits each. */
export const packedZpBytes = (n: number): number => Math.ceil((7 * aint(n, 'n')) / 8);

/**
 * Packs digits (each < 67) at 7 bits per digit.
 * @throws {RangeError} when a digit is not in [0, 67)
 */
export function packZp7(digits: Uint8Array): Uint8Array {
  abytes(digits, 'digits');
  const nb = packedZpBytes(digits.length);
  return scoped(() => {
    const d = copyInBytes(digits), out = alloc(nb);
    const bad = kernels.zpPack7(out, d, digits.length);
    if (bad !== 0) throw new RangeError(`"digits[${bad - 1}]" expected a value in [0, ${ZP}), got ${digits[bad - 1]}`);
    return copyOutBytes(out, nb);
  });
}

/**
 * Unpacks n digits from a 7-bit packed stream.
 * @throws {RangeError} on a wrong length, a digit >= 67 or non-zero padding bits (a malformed message)
 */
export function unpackZp7(bytes: Uint8Array, n: number): Uint8Array {
  abytes(bytes, 'bytes', packedZpBytes(n));
  return scoped(() => {
    const src = copyInBytes(bytes), out = alloc(n);
    const r = kernels.zpUnpack7(out, src, n);
    if (r > 0) {
      const at = 7 * (r - 1);
      const v = ((bytes[at >> 3]! | ((bytes[(at >> 3) + 1] ?? 0) << 8)) >> (at & 7)) & 0x7f;
      throw new RangeError(`packed Z_${ZP} digit ${r - 1} is ${v}, not in [0, ${ZP})`);
    }
    if (r < 0) throw new RangeError('packed Z_67 stream has non-zero padding bits');
    return copyOutBytes(out, n);
  });
}

/** (a + b) mod 67, elementwise. */
export function addZp(a: Uint8Array, b: Uint8Array, out = new Uint8Array(a.length)): Uint8Array {
  for (let i = 0; i < a.length; i++) {
    const s = a[i]! + b[i]!;
    out[i] = s >= ZP ? s - ZP : s;
  }
  return out;
}

/** (a - b) mod 67, elementwise. */
export function subZp(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (b.length !== a.length) throw new RangeError(`"b" expected ${a.length} digits, got ${b.length}`);
  return scoped(() => {
    const pa = copyInBytes(a), pb = copyInBytes(b);
    kernels.zpSub(pa, pa, pb, a.length);
    return copyOutBytes(pa, a.length);
  });
}

/** (a * b) mod 67, elementwise. */
export function mulZp(a: Uint8Array, b: Uint8Array, out = new Uint8Array(a.length)): Uint8Array {
  for (let i = 0; i < a.length; i++) out[i] = (a[i]! * b[i]!) % ZP;
  return out;
}

/** A source of random bytes read in order (a PRF keystream): fills the buffer it is given with the next bytes. */
export type ByteSource = (out: Uint8Array) => void;

/** Fills `len` arena bytes from the source; returns their pointer. */
function drawInto(src: ByteSource, len: number): number {
  const p = alloc(len);
  src(heap().u8.subarray(p, p + len));
  return p;
}

/**
 * Rejection sampling into the arena at dst. Reads chunks of ceil(1.3 * missing) + 64 bytes until n digits
 * are out; every reader of the same stream consumes the same chunks, so gets the same digits.
 */
function sampleInto(dst: number, src: ByteSource, n: number, nonZero: boolean): void {
  let have = 0;
  while (have < n) {
    const want = n - have;
    const len = Math.ceil(want * 1.3) + 64;
    have += scoped(() => kernels.zpSample(drawInto(src, len), len, dst + have, want, nonZero ? 1 : 0));
  }
}

function permutationsInto(dst: number, src: ByteSource, n: number, m: number): void {
  let row = 0;
  while (row < n) {
    const len = Math.ceil((n - row) * Math.max(m - 1, 1) * 1.25) + 64;
    row += scoped(() => kernels.zpPermutations(drawInto(src, len), len, dst, n, m, row));
  }
}

/** `n` uniform digits in [0, 67) (in [1, 67) with `nonZero`) by rejection sampling on bytes from `src`. */
export function sampleZp(src: ByteSource, n: number, nonZero = false): Uint8Array {
  aint(n, 'n');
  return scoped(() => {
    const dst = alloc(n);
    sampleInto(dst, src, n, nonZero);
    return copyOutBytes(dst, n);
  });
}

/** n independent uniform permutations of [0, m) (m <= 128), row i at [i*m, i*m+m). */
export function samplePermutations(src: ByteSource, n: number, m: number): Uint8Array {
  aint(m, 'm', 1, 128);
  return scoped(() => {
    const dst = alloc(n * m);
    permutationsInto(dst, src, n, m);
    return copyOutBytes(dst, n * m);
  });
}

/** Where one party's PrivateCompare masks come from: PRF streams common to P0 and P1. */
export interface CompareSources {
  /** Non-zero multipliers s. */
  s: ByteSource;
  /** Additive masks rho. */
  rho: ByteSource;
  /** Per-element permutations. */
  perm: ByteSource;
  /** Digits u of the third branch (beta = 1, r all ones). */
  u: ByteSource;
}

/**
 * One party's PrivateCompare message, packed at 7 bits per digit: masks sampled from `sources`, digits
 * per the formulas in relu-protocols' private-compare.ts. `x` is this party's digit shares of the secret
 * bits, plain or as a packed message (as P1 receives them).
 * @param j - 0 for P0, 1 for P1
 */
export function compareMessage(
  n: number, m: number, j: 0 | 1, x: { digits: Uint8Array } | { packed: Uint8Array }, r: Uint8Array, beta: Uint8Array, sources: CompareSources,
): Uint8Array {
  const nm = n * m;
  if (r.length !== nm || beta.length !== n) throw new RangeError(`compareMessage expects ${n}x${m} bits and ${n} betas`);
  return scoped(() => {
    let X: number;
    if ('digits' in x) {
      abytes(x.digits, 'digits', nm);
      X = copyInBytes(x.digits);
    } else {
      abytes(x.packed, 'packed', packedZpBytes(nm));
      X = alloc(nm);
      const bad = kernels.zpUnpack7(X, copyInBytes(x.packed), nm);
      if (bad !== 0) throw new RangeError('malformed packed Z_67 digits');
    }
    const R = copyInBytes(r), B = copyInBytes(beta);
    const S = alloc(nm), RHO = alloc(nm), PERM = alloc(nm);
    sampleInto(S, sources.s, nm, true);
    sampleInto(RHO, sources.rho, nm, false);
    permutationsInto(PERM, sources.perm, n, m);
    const third = kernels.zpCountThird(R, B, n, m);
    const U = alloc(Math.max(1, third * m));
    if (third > 0) sampleInto(U, sources.u, third * m, false);
    const D = alloc(nm), packed = packedZpBytes(nm), OUT = alloc(packed);
    kernels.zpCompareDigits(X, R, B, S, RHO, PERM, U, D, n, m, j);
    kernels.zpPack7(OUT, D, nm);
    return copyOutBytes(OUT, packed);
  });
}

/** The helper's side: out[i] = 1 iff element i of the two packed messages sums to a zero digit somewhere. */
export function findZeroPacked(d0: Uint8Array, d1: Uint8Array, n: number, m: number): Uint8Array {
  const nm = n * m;
  abytes(d0, 'd0', packedZpBytes(nm));
  abytes(d1, 'd1', packedZpBytes(nm));
  return scoped(() => {
    const A = alloc(nm), B = alloc(nm), OUT = alloc(n);
    if (kernels.zpUnpack7(A, copyInBytes(d0), nm) !== 0 || kernels.zpUnpack7(B, copyInBytes(d1), nm) !== 0)
      throw new RangeError('malformed packed Z_67 digits');
    kernels.zpFindZero(A, B, OUT, n, m);
    return copyOutBytes(OUT, n);
  });
}

/**
 * The dealer's side of bit shares: `bits` (0/1 digits) minus digits sampled from `src` (the other party's
 * shares, which it samples itself from the same stream), packed for sending.
 */
export function dealBitShares(bits: Uint8Array, src: ByteSource): Uint8Array {
  const n = bits.length;
  return scoped(() => {
    const D0 = alloc(n);
    sampleInto(D0, src, n, false);
    const B = copyInBytes(bits);
    kernels.zpSub(B, B, D0, n);
    const packed = packedZpBytes(n), OUT = alloc(packed);
    kernels.zpPack7(OUT, B, n);
    return copyOutBytes(OUT, packed);
  });
}

/** MSB-first bits of the low k bits of each value (WebAssembly). */
export function bitsOfWords(v: Uint32Array, k: number): Uint8Array {
  aint(k, 'k', 1, 32);
  return scoped(() => {
    const V = alloc(4 * v.length);
    heap().u8.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), V);
    const OUT = alloc(v.length * k);
    kernels.bitsOfU32(OUT, V, v.length, k);
    return copyOutBytes(OUT, v.length * k);
  });
}

/** Top bit and the k-1 low bits (MSB first) of each k-bit value (k <= 32). */
export function splitTopBits(v: Uint32Array, k: number): { top: Uint8Array; low: Uint8Array } {
  aint(k, 'k', 2, 32);
  const n = v.length, m = k - 1;
  return scoped(() => {
    const V = alloc(4 * n);
    heap().u8.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), V);
    const T = alloc(n), L = alloc(n * m);
    kernels.splitTopBits(T, L, V, n, k);
    return { top: copyOutBytes(T, n), low: copyOutBytes(L, n * m) };
  });
}
