/**
 * Shared bits as the comparison protocols produce them: b = u XOR v, where u is known to P0 and P1 (a
 * public-to-them, uniformly masked bit), v is known only to the helper, and P0/P1 also hold arithmetic
 * shares v0 + v1 = v over Z_2^64. Arithmetic shares of b follow locally:
 *   b = u + (1 - 2u) v,  so  b0 = u + (1 - 2u) v0,  b1 = (1 - 2u) v1.
 * Because the helper knows v, products of b with a shared value need no Beaver triple (mulBit in
 * @si/relu-protocols): the helper deals v times a mask directly.
 * @module
 */
import { RingTensor, shapeSize, words } from '@si/ring';
import type { Party } from './party.ts';
import { Shared } from './shared.ts';
import { CLIENT, HELPER } from './roles.ts';

export class SharedBit {
  /**
   * @param u - P0/P1: the public part (0/1 per element); null at P2
   * @param vShare - P0/P1: arithmetic share of v; null at P2
   * @param v - P2: the helper's part; null at P0/P1
   */
  constructor(readonly shape: readonly number[], readonly u: Uint8Array | null, readonly vShare: RingTensor | null, readonly v: Uint8Array | null) {}

  get size(): number {
    return shapeSize(this.shape);
  }

  /** NOT b (flips the public part: free). */
  not(): SharedBit {
    return new SharedBit(this.shape, this.u ? this.u.map((x) => x ^ 1) : null, this.vShare, this.v);
  }

  /** The same bits under another shape. */
  reshape(shape: readonly number[]): SharedBit {
    return new SharedBit(shape, this.u, this.vShare?.reshape(shape) ?? null, this.v);
  }

  /**
   * Applies a layout change that copies elements (e.g. a patch broadcast) to every part; the value of
   * each output element is the value of the input element it copies.
   */
  map(shape: readonly number[], bytes: (a: Uint8Array) => Uint8Array, ring: (t: RingTensor) => RingTensor): SharedBit {
    return new SharedBit(shape, this.u ? bytes(this.u) : null, this.vShare ? ring(this.vShare) : null, this.v ? bytes(this.v) : null);
  }

  /** Arithmetic shares of b over Z_2^64 (local). */
  toShared(p: Party): Shared {
    if (p.id === HELPER) return new Shared(this.shape, null);
    const v = this.vShare!;
    const one = p.id === CLIENT ? 1 : 0;
    return new Shared(this.shape, pick(this.u!, v.neg().addScalar(one), v));
  }
}

/** Elementwise u ? a : b on ring tensors (copies 32-bit words; no BigInt). */
export function pick(u: Uint8Array, a: RingTensor, b: RingTensor): RingTensor {
  const out = new BigInt64Array(b.size);
  const o = words(out), wa = words(a.data), wb = words(b.data);
  for (let i = 0; i < u.length; i++) {
    const s = u[i] ? wa : wb;
    o[2 * i] = s[2 * i]!;
    o[2 * i + 1] = s[2 * i + 1]!;
  }
  return new RingTensor(out, b.shape);
}

/** A 0/1 byte vector as a ring tensor. */
export function bitsToRing(v: Uint8Array, shape: readonly number[]): RingTensor {
  const out = new BigInt64Array(v.length);
  const w = words(out);
  for (let i = 0; i < v.length; i++) w[2 * i] = v[i]!;
  return new RingTensor(out, shape);
}
