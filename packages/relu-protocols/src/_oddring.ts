/**
 * Arithmetic in Z_N, N = 2^64 - 1 (the odd ring of SecureNN's ShareConvert/ComputeMSB), on 32-bit words.
 * Elements are stored canonically in [0, N) in BigInt64Array slots (the all-ones pattern never appears).
 * 2^64 = 1 (mod N), so a carry out of the 64-bit sum adds 1.
 * @module
 */
import { words } from '@si/ring';
import { RING64, type ShareGroup } from '@si/sharing';

const U = 4294967296;

/** a + b mod N. */
export function addN(a: BigInt64Array, b: BigInt64Array): BigInt64Array {
  const out = new BigInt64Array(a.length);
  const o = new Uint32Array(out.buffer), x = words(a), y = words(b);
  for (let i = 0; i < a.length; i++) {
    let lo = (x[2 * i]! >>> 0) + (y[2 * i]! >>> 0);
    let hi = (x[2 * i + 1]! >>> 0) + (y[2 * i + 1]! >>> 0) + (lo >= U ? 1 : 0);
    lo %= U;
    if (hi >= U) {
      hi -= U;
      lo += 1; // the carry out of 2^64 is worth 1
      if (lo === U) {
        lo = 0;
        hi += 1;
      }
    }
    if (lo === U - 1 && hi === U - 1) lo = hi = 0;
    o[2 * i] = lo;
    o[2 * i + 1] = hi;
  }
  return out;
}

/** -b mod N (the bitwise complement, with 0 staying 0). */
function negN(b: BigInt64Array): BigInt64Array {
  const out = new BigInt64Array(b.length);
  const o = new Uint32Array(out.buffer), y = new Uint32Array(b.buffer, b.byteOffset, 2 * b.length);
  for (let i = 0; i < b.length; i++) {
    const lo = ~y[2 * i]! >>> 0, hi = ~y[2 * i + 1]! >>> 0;
    const zero = lo === U - 1 && hi === U - 1;
    o[2 * i] = zero ? 0 : lo;
    o[2 * i + 1] = zero ? 0 : hi;
  }
  return out;
}

export const subN = (a: BigInt64Array, b: BigInt64Array): BigInt64Array => addN(a, negN(b));

/** Reduces arbitrary 64-bit patterns into [0, N) (only all-ones changes, to 0). */
export function canonN(a: BigInt64Array): BigInt64Array {
  const out = a.slice();
  const o = new Uint32Array(out.buffer);
  for (let i = 0; i < a.length; i++) if (o[2 * i] === U - 1 && o[2 * i + 1] === U - 1) o[2 * i] = o[2 * i + 1] = 0;
  return out;
}

/** [a + b >= 2^64] for unsigned 64-bit a, b (the wrap bit of a sum mod 2^64). */
export function wrapBits(a: BigInt64Array, b: BigInt64Array): Uint8Array {
  const out = new Uint8Array(a.length);
  const x = words(a), y = words(b);
  for (let i = 0; i < a.length; i++) {
    const lo = (x[2 * i]! >>> 0) + (y[2 * i]! >>> 0);
    const hi = (x[2 * i + 1]! >>> 0) + (y[2 * i + 1]! >>> 0) + (lo >= U ? 1 : 0);
    out[i] = hi >= U ? 1 : 0;
  }
  return out;
}

/** Small integers (e.g. 0/1 bits or their signed sums) as elements of Z_N. */
export function smallN(v: ArrayLike<number>): BigInt64Array {
  const out = new BigInt64Array(v.length);
  const o = new Uint32Array(out.buffer);
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (x >= 0) o[2 * i] = x;
    else {
      // N + x = 2^64 - 1 + x
      o[2 * i] = (U - 1 + x) >>> 0;
      o[2 * i + 1] = U - 1;
    }
  }
  return out;
}

/** Lowest bit of each element. */
export function lsb(a: BigInt64Array): Uint8Array {
  const w = words(a);
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = w[2 * i]! & 1;
  return out;
}

/** Elements of Z_N multiplied by +1 or -1 per element (sign bit s: 1 = negate). */
export function signN(a: BigInt64Array, negate: Uint8Array): BigInt64Array {
  const n = negN(a);
  const out = a.slice();
  for (let i = 0; i < a.length; i++) if (negate[i]) out[i] = n[i]!;
  return out;
}

/** Z_N as a group to deal shares in (uniform up to a 2^-64 bias: the all-ones draw becomes 0). */
export const ZN: ShareGroup<BigInt64Array> = {
  name: 'zn',
  draw: (ks, n) => canonN(RING64.draw(ks, n)),
  add: addN,
  sub: subN,
  bytes: (n) => 8 * n,
  encode: (t) => t,
  decode: (b, n) => canonN(new BigInt64Array(b.buffer, b.byteOffset, n)),
};
