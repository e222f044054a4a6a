/**
 * Small rings Z_2^k (1 <= k <= 32) for comparisons on few bits: elements live in a Uint32Array, reduced
 * to [0, 2^k). Reduction of a Z_2^64 tensor keeps its k low bits, which commutes with addition, so
 * additive shares mod 2^64 reduce to additive shares mod 2^k locally.
 * @module
 */
import { aint } from './guards.ts';
import { words, type RingTensor } from './tensor.ts';

function mask(k: number): number {
  aint(k, 'k', 1, 32);
  return k === 32 ? 0xffffffff : (1 << k) - 1 >>> 0;
}

function same(a: Uint32Array, b: Uint32Array, out: Uint32Array | undefined): Uint32Array {
  if (!(a instanceof Uint32Array) || !(b instanceof Uint32Array)) throw new TypeError('Z_2^k operands must be Uint32Arrays');
  if (b.length !== a.length) throw new RangeError(`"b" expected ${a.length} elements, got ${b.length}`);
  if (out !== undefined && out.length !== a.length) throw new RangeError(`"out" expected ${a.length} elements, got ${out.length}`);
  return out ?? new Uint32Array(a.length);
}

/** x mod 2^k for every element of a Z_2^64 tensor (or raw BigInt64Array). */
export function reduceK(x: RingTensor | BigInt64Array, k: number): Uint32Array {
  const m = mask(k);
  const w = words(x instanceof BigInt64Array ? x : x.data);
  const out = new Uint32Array(w.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = (w[2 * i]! & m) >>> 0;
  return out;
}

/** (a + b) mod 2^k. */
export function addK(a: Uint32Array, b: Uint32Array, k: number, out?: Uint32Array): Uint32Array {
  const m = mask(k), o = same(a, b, out);
  for (let i = 0; i < a.length; i++) o[i] = ((a[i]! + b[i]!) & m) >>> 0;
  return o;
}

/** (a - b) mod 2^k. */
export function subK(a: Uint32Array, b: Uint32Array, k: number, out?: Uint32Array): Uint32Array {
  const m = mask(k), o = same(a, b, out);
  for (let i = 0; i < a.length; i++) o[i] = ((a[i]! - b[i]!) & m) >>> 0;
  return o;
}

/** (-a) mod 2^k. */
export function negK(a: Uint32Array, k: number, out?: Uint32Array): Uint32Array {
  const m = mask(k), o = same(a, a, out);
  for (let i = 0; i < a.length; i++) o[i] = (-a[i]! & m) >>> 0;
  return o;
}

/** Most significant bit (bit k-1) of each element: 1 for the "negative" half of Z_2^k. */
export function msbK(a: Uint32Array, k: number): Uint8Array {
  mask(k);
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i]! >>> (k - 1)) & 1;
  return out;
}

/** Reads elements of Z_2^k as signed integers in [-2^(k-1), 2^(k-1)). */
export function toSignedK(a: Uint32Array, k: number): Float64Array {
  mask(k);
  const out = new Float64Array(a.length);
  const half = 2 ** (k - 1), mod = 2 ** k;
  for (let i = 0; i < a.length; i++) out[i] = a[i]! >= half ? a[i]! - mod : a[i]!;
  return out;
}
