/**
 * Digit vectors of the carry comparison (the protocol and its formulas are in @si/relu-protocols'
 * carry-compare.ts): for n elements of m bits (m <= 30), m + 1 digits of Z_p per element, p the smallest
 * prime above 3 * 2^m + 2 (below 2^32), ceil(log2 p) bits per digit on the wire. Sampling of the masks from
 * PRF bytes, the digits, packing and the zero search run in WebAssembly.
 * @module
 */
import { abytes, aint } from './guards.ts';
import { alloc, copyInBytes, copyOutBytes, kernels, scoped } from './_wasm.ts';
import { drawInto, permutationsInto, type ByteSource } from './zp.ts';

const isPrime = (n: number): boolean => {
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return n > 1;
};

const primes = new Map<number, number>();

/**
 * The carry comparison's prime for m-bit numbers: the smallest above 3 * 2^m + 2, so every digit's
 * c_i (|c_i| <= 3 * 2^m) is 0 mod p only when it is 0.
 * @throws {RangeError} for m outside [1, 30]
 */
export function carryPrime(m: number): number {
  aint(m, 'm', 1, 30);
  let p = primes.get(m);
  if (p === undefined) {
    for (p = 3 * 2 ** m + 3; !isPrime(p); p++);
    primes.set(m, p);
  }
  return p;
}

/** Bits of one digit on the wire for m-bit numbers. */
export const carryDigitBits = (m: number): number => Math.ceil(Math.log2(carryPrime(m)));

/** Bytes of one party's digits for n elements of m bits. */
export const carryPackedBytes = (n: number, m: number): number => Math.ceil((aint(n, 'n') * (m + 1) * carryDigitBits(m)) / 8);

/** Where the masks come from (byte sources read in order, e.g. PRF streams P0 and P1 share). */
export interface CarryMaskSources {
  /** Non-zero multipliers, n (m + 1) of them. */
  s: ByteSource;
  /** Additive masks, n (m + 1). */
  rho: ByteSource;
  /** Per-element permutations of [0, m + 1). */
  perm: ByteSource;
}

/** n u32 values in [0, q) (in [1, q] with nonZero) at dst by rejection on words of `bits` bits; every reader of the source gets the same. */
function sampleWords(dst: number, src: ByteSource, n: number, q: number, bits: number, nonZero: boolean): void {
  let have = 0;
  while (have < n) {
    const want = n - have, words = Math.ceil(want * 1.4) + 16;
    have += scoped(() => kernels.carrySample(drawInto(src, 4 * words), words, dst + 4 * have, want, q, bits, nonZero ? 1 : 0));
  }
}

/**
 * One party's packed digits: for element e with value v[e] (P0: a, P1: b) and common bit beta[e], its
 * part of each c_i times s, masked by +rho (j = 0) or -rho (j = 1), at position perm_i of its row.
 */
export function carryDigits(v: Uint32Array, beta: Uint8Array, sources: CarryMaskSources, m: number, j: 0 | 1): Uint8Array {
  const n = v.length, E = m + 1, p = carryPrime(m), bits = carryDigitBits(m);
  abytes(beta, 'beta', n);
  const limit = 2 ** m;
  for (let i = 0; i < n; i++) if (v[i]! >= limit) throw new RangeError(`"v[${i}]" expected an ${m}-bit value, got ${v[i]}`);
  return scoped(() => {
    const V = copyInBytes(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)), B = copyInBytes(beta);
    const S = alloc(4 * n * E), RHO = alloc(4 * n * E), PERM = alloc(n * E), D = alloc(4 * n * E);
    sampleWords(S, sources.s, n * E, p - 1, bits, true);
    sampleWords(RHO, sources.rho, n * E, p, bits, false);
    permutationsInto(PERM, sources.perm, n, E);
    kernels.carryDigits(V, B, S, RHO, PERM, D, n, m, j, p);
    const bytes = carryPackedBytes(n, m), OUT = alloc(bytes + 8);
    kernels.carryPack(OUT, D, n * E, bits);
    return copyOutBytes(OUT, bytes);
  });
}

/**
 * The helper's result from both packed messages: 1 where an element's digits sum to zero mod p somewhere.
 * @throws {RangeError} on a wrong length, a digit >= p or non-zero padding bits (a malformed message)
 */
export function carryFindZero(d0: Uint8Array, d1: Uint8Array, n: number, m: number): Uint8Array {
  const E = m + 1, p = carryPrime(m), bits = carryDigitBits(m), bytes = carryPackedBytes(n, m);
  abytes(d0, 'd0', bytes);
  abytes(d1, 'd1', bytes);
  return scoped(() => {
    const unpack = (d: Uint8Array, who: string): number => {
      const A = alloc(4 * n * E), r = kernels.carryUnpack(A, copyInBytes(d), n * E, bits, p);
      if (r > 0) throw new RangeError(`${who}'s carry digit ${r - 1} is not in [0, ${p})`);
      if (r < 0) throw new RangeError(`${who}'s carry digits have non-zero padding bits`);
      return A;
    };
    const A = unpack(d0, 'P0'), B = unpack(d1, 'P1'), OUT = alloc(n);
    kernels.carryZeros(A, B, OUT, n, E, p);
    return copyOutBytes(OUT, n);
  });
}
