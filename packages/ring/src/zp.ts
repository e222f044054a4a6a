/**
 * Z_p digit vectors for PrivateCompare (p = 67): one digit per byte in memory, 7 bits per digit on the
 * wire (67 < 2^7), packed LSB-first. The hot loops (sampling from PRF bytes, per-element permutations,
 * the comparison digits, zero search, packing) run in WebAssembly; the protocols that use them
 * (PrivateCompare and the comparisons built on it) live in @si/relu-protocols.
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

/** Where the masks of a PrivateCompare vector come from (byte sources read in order, e.g. PRF streams). */
export interface ZpMaskSources {
  /** Non-zero multipliers s, n*m digits. */
  s: ByteSource;
  /** Additive masks rho, n*m digits. */
  rho: ByteSource;
  /** Per-element permutations of [0, m). */
  perm: ByteSource;
  /** Digits u of the branch with beta = 1 and r all ones (m per such element). */
  u: ByteSource;
}

/** Copies digits into the arena, unpacking a 7-bit packed message there. */
function digitsIn(x: Uint8Array | { packed: Uint8Array }, nm: number): number {
  if (x instanceof Uint8Array) return copyInBytes(abytes(x, 'digits', nm));
  abytes(x.packed, 'packed', packedZpBytes(nm));
  const X = alloc(nm);
  if (kernels.zpUnpack7(X, copyInBytes(x.packed), nm) !== 0) throw new RangeError('malformed packed Z_67 digits');
  return X;
}

/**
 * The Z_67 digit vector of one party's PrivateCompare message (WebAssembly; the protocol is in
 * @si/relu-protocols): for each of n elements with m bit-digit shares `x` (MSB first, plain or 7-bit
 * packed), public bits `r` and bit `beta`, the c_b of SecureNN's Algorithm 3 (the branch with beta = 1 and
 * r all ones takes its c from `u`), multiplied by s, masked by +rho (j = 0) or -rho (j = 1) and placed at
 * position perm_b of its row; the masks are sampled from `sources` in the arena, and the result is packed
 * at 7 bits per digit.
 * @param j - 0 for P0, 1 for P1
 */
export function zpCompareDigits(x: Uint8Array | { packed: Uint8Array }, r: Uint8Array, beta: Uint8Array, sources: ZpMaskSources, n: number, m: number, j: 0 | 1): Uint8Array {
  const nm = n * m;
  abytes(r, 'r', nm);
  abytes(beta, 'beta', n);
  return scoped(() => {
    const X = digitsIn(x, nm), R = copyInBytes(r), B = copyInBytes(beta);
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

/** out[i] = 1 iff some position b of row i has d0 + d1 = 0 (mod 67): n rows of m digits, each vector 7-bit packed. */
export function zpFindZero(d0: Uint8Array, d1: Uint8Array, n: number, m: number): Uint8Array {
  const nm = n * m;
  return scoped(() => {
    const A = digitsIn({ packed: abytes(d0, 'd0') }, nm), B = digitsIn({ packed: abytes(d1, 'd1') }, nm), OUT = alloc(n);
    kernels.zpFindZero(A, B, OUT, n, m);
    return copyOutBytes(OUT, n);
  });
}

/**
 * (d - u) mod 67 for digits d and uniform digits u drawn from `src`, packed at 7 bits (in the arena: the
 * other holder of `src` draws the same u, so the two hold additive shares of d).
 */
export function zpSubDrawnPacked(d: Uint8Array, src: ByteSource): Uint8Array {
  const n = abytes(d, 'd').length;
  return scoped(() => {
    const U = alloc(n);
    sampleInto(U, src, n, false);
    const D = copyInBytes(d);
    kernels.zpSub(D, D, U, n);
    const packed = packedZpBytes(n), OUT = alloc(packed);
    kernels.zpPack7(OUT, D, n);
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
