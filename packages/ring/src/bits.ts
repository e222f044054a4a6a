/**
 * Bit decomposition, most significant bit first, as PrivateCompare consumes it.
 * @module
 */
import { aint } from './guards.ts';
import { words, type RingTensor } from './tensor.ts';

/**
 * The low `bits` bits of every Z_2^64 element, MSB first: out[i*bits + j] = bit (bits-1-j) of x[i].
 * For bits = 64 this is the full two's-complement pattern.
 */
export function bitsMsbFirst(x: RingTensor | BigInt64Array, bits = 64): Uint8Array {
  aint(bits, 'bits', 1, 64);
  const w = words(x instanceof BigInt64Array ? x : x.data);
  const n = w.length / 2;
  const out = new Uint8Array(n * bits);
  for (let i = 0; i < n; i++) {
    const lo = w[2 * i]!, hi = w[2 * i + 1]!;
    let o = i * bits;
    for (let b = bits - 1; b >= 32; b--) out[o++] = (hi >>> (b - 32)) & 1;
    for (let b = Math.min(bits, 32) - 1; b >= 0; b--) out[o++] = (lo >>> b) & 1;
  }
  return out;
}

/** The k bits of every Z_2^k element (k <= 32), MSB first. */
export function bitsMsbFirstK(x: Uint32Array, k: number): Uint8Array {
  aint(k, 'k', 1, 32);
  const out = new Uint8Array(x.length * k);
  for (let i = 0, o = 0; i < x.length; i++) {
    const v = x[i]!;
    for (let b = k - 1; b >= 0; b--) out[o++] = (v >>> b) & 1;
  }
  return out;
}
