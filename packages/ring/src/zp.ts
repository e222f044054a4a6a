/**
 * Z_p digit vectors for PrivateCompare: one digit per byte in memory, ceil(log2 p) bits per digit on the
 * wire, packed LSB-first. SecureNN fixes p = 67 (64-bit comparisons); an m-bit comparison only needs a
 * prime above m + 1 (pcPrime: its c_b stay in [0, m + 1], so a zero mod p is a true zero), e.g. 17 and
 * 5 bits per digit at m = 15 instead of 7. The hot loops (sampling from PRF bytes, per-element
 * permutations, the comparison digits, zero search, packing) run in WebAssembly; the protocols that use
 * them (PrivateCompare and the comparisons built on it) live in @si/relu-protocols.
 * @module
 */
import { abytes, aint } from './guards.ts';
import { alloc, copyInBytes, copyOutBytes, heap, kernels, scoped } from './_wasm.ts';

/** SecureNN's PrivateCompare prime: the smallest prime above 64 + 1 (the default modulus here). */
export const ZP = 67;

const PRIMES = [3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67];

/**
 * The PrivateCompare prime for m-bit comparisons: the smallest prime above m + 1 (at least 3), so no
 * c_b in [0, m + 1] is a multiple of it but 0. 67 for m = 63 or 64.
 * @throws {RangeError} for m outside [1, 65]
 */
export function pcPrime(m: number): number {
  aint(m, 'm', 1, 65);
  return PRIMES.find((p) => p > m + 1)!;
}

/** Bits per digit of Z_p on the wire: ceil(log2 p). */
export const zpDigitBits = (p: number): number => Math.ceil(Math.log2(checkPrime(p)));

function checkPrime(p: number): number {
  if (!PRIMES.includes(p)) throw new RangeError(`"p" expected a prime in [3, 67], got ${p}`);
  return p;
}

/** Bytes needed to send n digits of Z_p. */
export const packedZpBytes = (n: number, p: number = ZP): number => Math.ceil((zpDigitBits(p) * aint(n, 'n')) / 8);

/**
 * Packs digits (each < p) at zpDigitBits(p) bits per digit.
 * @throws {RangeError} when a digit is not in [0, p)
 */
export function packZp(digits: Uint8Array, p: number = ZP): Uint8Array {
  abytes(digits, 'digits');
  const nb = packedZpBytes(digits.length, p);
  return scoped(() => {
    const d = copyInBytes(digits), out = alloc(nb);
    const bad = kernels.zpPack(out, d, digits.length, zpDigitBits(p), p);
    if (bad !== 0) throw new RangeError(`"digits[${bad - 1}]" expected a value in [0, ${p}), got ${digits[bad - 1]}`);
    return copyOutBytes(out, nb);
  });
}

/**
 * Unpacks n digits of Z_p from a packed stream.
 * @throws {RangeError} on a wrong length, a digit >= p or non-zero padding bits (a malformed message)
 */
export function unpackZp(bytes: Uint8Array, n: number, p: number = ZP): Uint8Array {
  abytes(bytes, 'bytes', packedZpBytes(n, p));
  return scoped(() => {
    const src = copyInBytes(bytes), out = alloc(n);
    const bits = zpDigitBits(p);
    const r = kernels.zpUnpack(out, src, n, bits, p);
    if (r > 0) {
      const at = bits * (r - 1);
      const v = ((bytes[at >> 3]! | ((bytes[(at >> 3) + 1] ?? 0) << 8)) >> (at & 7)) & ((1 << bits) - 1);
      throw new RangeError(`packed Z_${p} digit ${r - 1} is ${v}, not in [0, ${p})`);
    }
    if (r < 0) throw new RangeError(`packed Z_${p} stream has non-zero padding bits`);
    return copyOutBytes(out, n);
  });
}

/** (a + b) mod p, elementwise. */
export function addZp(a: Uint8Array, b: Uint8Array, out = new Uint8Array(a.length), p: number = ZP): Uint8Array {
  for (let i = 0; i < a.length; i++) {
    const s = a[i]! + b[i]!;
    out[i] = s >= p ? s - p : s;
  }
  return out;
}

/** (a - b) mod p, elementwise. */
export function subZp(a: Uint8Array, b: Uint8Array, p: number = ZP): Uint8Array {
  if (b.length !== a.length) throw new RangeError(`"b" expected ${a.length} digits, got ${b.length}`);
  checkPrime(p);
  return scoped(() => {
    const pa = copyInBytes(a), pb = copyInBytes(b);
    kernels.zpSub(pa, pa, pb, a.length, p);
    return copyOutBytes(pa, a.length);
  });
}

/** (a * b) mod p, elementwise. */
export function mulZp(a: Uint8Array, b: Uint8Array, out = new Uint8Array(a.length), p: number = ZP): Uint8Array {
  for (let i = 0; i < a.length; i++) out[i] = (a[i]! * b[i]!) % p;
  return out;
}

/** A source of random bytes read in order (a PRF keystream): fills the buffer it is given with the next bytes. */
export type ByteSource = (out: Uint8Array) => void;

/** Fills `len` arena bytes from the source; returns their pointer. */
export function drawInto(src: ByteSource, len: number): number {
  const p = alloc(len);
  src(heap().u8.subarray(p, p + len));
  return p;
}


/**
 * Rejection sampling into the arena at dst. Reads chunks of ceil(1.3 * missing) + 64 bytes until n digits
 * are out; every reader of the same stream consumes the same chunks, so gets the same digits.
 */
function sampleInto(dst: number, src: ByteSource, n: number, nonZero: boolean, p: number): void {
  let have = 0;
  while (have < n) {
    const want = n - have;
    const len = Math.ceil(want * 1.3) + 64;
    have += scoped(() => kernels.zpSample(drawInto(src, len), len, dst + have, want, nonZero ? 1 : 0, p));
  }
}

export function permutationsInto(dst: number, src: ByteSource, n: number, m: number): void {
  let row = 0;
  while (row < n) {
    const len = Math.ceil((n - row) * Math.max(m - 1, 1) * 1.25) + 64;
    row += scoped(() => kernels.zpPermutations(drawInto(src, len), len, dst, n, m, row));
  }
}

/**
 * `n` uniform digits in [0, p) (in [1, p) with `nonZero`) by rejection sampling on bytes from `src`:
 * a byte b below 256 - 256 mod q gives b mod q (q = p, or p - 1 and one added).
 */
export function sampleZp(src: ByteSource, n: number, nonZero = false, p: number = ZP): Uint8Array {
  aint(n, 'n');
  checkPrime(p);
  return scoped(() => {
    const dst = alloc(n);
    sampleInto(dst, src, n, nonZero, p);
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

/** Copies digits into the arena, unpacking a packed message there. */
function digitsIn(x: Uint8Array | { packed: Uint8Array }, nm: number, p: number): number {
  if (x instanceof Uint8Array) return copyInBytes(abytes(x, 'digits', nm));
  abytes(x.packed, 'packed', packedZpBytes(nm, p));
  const X = alloc(nm);
  if (kernels.zpUnpack(X, copyInBytes(x.packed), nm, zpDigitBits(p), p) !== 0) throw new RangeError(`malformed packed Z_${p} digits`);
  return X;
}

/**
 * The Z_p digit vector of one party's PrivateCompare message (WebAssembly; the protocol is in
 * @si/relu-protocols): for each of n elements with m bit-digit shares `x` (MSB first, plain or packed),
 * public bits `r` and bit `beta`, the c_b of SecureNN's Algorithm 3 (the branch with beta = 1 and r all
 * ones takes its c from `u`), multiplied by s, masked by +rho (j = 0) or -rho (j = 1) and placed at
 * position perm_b of its row; the masks are sampled from `sources` in the arena, and the result is packed.
 * @param j - 0 for P0, 1 for P1
 * @param p - the modulus, a prime above m + 1 (default pcPrime(m))
 */
export function zpCompareDigits(x: Uint8Array | { packed: Uint8Array }, r: Uint8Array, beta: Uint8Array, sources: ZpMaskSources, n: number, m: number, j: 0 | 1, p: number = pcPrime(m)): Uint8Array {
  const nm = n * m;
  abytes(r, 'r', nm);
  abytes(beta, 'beta', n);
  if (checkPrime(p) <= m + 1) throw new RangeError(`"p" must be a prime above m + 1 = ${m + 1}, got ${p}`);
  return scoped(() => {
    const X = digitsIn(x, nm, p), R = copyInBytes(r), B = copyInBytes(beta);
    const S = alloc(nm), RHO = alloc(nm), PERM = alloc(nm);
    sampleInto(S, sources.s, nm, true, p);
    sampleInto(RHO, sources.rho, nm, false, p);
    permutationsInto(PERM, sources.perm, n, m);
    const third = kernels.zpCountThird(R, B, n, m);
    const U = alloc(Math.max(1, third * m));
    if (third > 0) sampleInto(U, sources.u, third * m, false, p);
    const D = alloc(nm), packed = packedZpBytes(nm, p), OUT = alloc(packed);
    kernels.zpCompareDigits(X, R, B, S, RHO, PERM, U, D, n, m, j, p);
    kernels.zpPack(OUT, D, nm, zpDigitBits(p), p);
    return copyOutBytes(OUT, packed);
  });
}

/** out[i] = 1 iff some position b of row i has d0 + d1 = 0 (mod p): n rows of m digits, each vector packed. */
export function zpFindZero(d0: Uint8Array, d1: Uint8Array, n: number, m: number, p: number = pcPrime(m)): Uint8Array {
  const nm = n * m;
  checkPrime(p);
  return scoped(() => {
    const A = digitsIn({ packed: abytes(d0, 'd0') }, nm, p), B = digitsIn({ packed: abytes(d1, 'd1') }, nm, p), OUT = alloc(n);
    kernels.zpFindZero(A, B, OUT, n, m, p);
    return copyOutBytes(OUT, n);
  });
}

/**
 * (d - u) mod p for digits d and uniform digits u drawn from `src`, packed (in the arena: the other
 * holder of `src` draws the same u, so the two hold additive shares of d).
 */
export function zpSubDrawnPacked(d: Uint8Array, src: ByteSource, p: number = ZP): Uint8Array {
  const n = abytes(d, 'd').length;
  checkPrime(p);
  return scoped(() => {
    const U = alloc(n);
    sampleInto(U, src, n, false, p);
    const D = copyInBytes(d);
    kernels.zpSub(D, D, U, n, p);
    const packed = packedZpBytes(n, p), OUT = alloc(packed);
    kernels.zpPack(OUT, D, n, zpDigitBits(p), p);
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
