/**
 * Shared bits as the comparison protocols produce them: b = u XOR v, where u is known to P0 and P1 (a
 * public-to-them, uniformly masked bit), v is known only to the helper, and P0/P1 also hold arithmetic
 * shares v0 + v1 = v over Z_2^64. Arithmetic shares of b follow locally:
 *   b = u + (1 - 2u) v,  so  b0 = u + (1 - 2u) v0,  b1 = (1 - 2u) v1.
 * Because the helper knows v, products of b with a shared value need no Beaver triple (mulBit).
 * @module
 */
import { RingTensor, words } from '@si/ring';
import { CLIENT, HELPER, SERVER, Shared, type Cost, type Party } from '@si/sharing';

export class SharedBit {
  /**
   * @param u - P0/P1: the public part (0/1 per element); null at P2
   * @param vShare - P0/P1: arithmetic share of v; null at P2
   * @param v - P2: the helper's part; null at P0/P1
   */
  constructor(readonly shape: readonly number[], readonly u: Uint8Array | null, readonly vShare: RingTensor | null, readonly v: Uint8Array | null) {}

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
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

/**
 * x * b for a shared value x and a shared bit b of the same number of elements:
 * x*b = u*x + (1 - 2u)*(v*x). For v*x, P0 and P1 mask x with m = m0 + m1 (m_j from their PRF stream with
 * the helper, so it knows m) and exchange w = x + m; the helper deals shares of v*m (P0's from the P0/P2
 * stream, P1's sent). Then v*x = v*w - v*m, and v*w = v0*w + v1*w is local since w is public to both.
 * Cost: w both ways and one share from the helper: 24 bytes per element, one round.
 */
export async function mulBit(p: Party, b: SharedBit, x: Shared): Promise<Shared> {
  if (b.size !== x.size) throw new RangeError(`bit has ${b.size} elements, value has ${x.size}`);
  const label = p.label('mulbit');
  if (p.id === HELPER) {
    const m = p.prf(CLIENT).ring(`${label}:m`, x.shape).addInPlace(p.prf(SERVER).ring(`${label}:m`, x.shape));
    const vm0 = p.prf(CLIENT).ring(`${label}:vm`, x.shape);
    const vm = m.mulInPlace(bitsToRing(b.v!, x.shape));
    p.link(SERVER).send('mulbit.vm', vm.subInPlace(vm0).data);
    return new Shared(x.shape, null);
  }
  const mj = p.prf(HELPER).ring(`${label}:m`, x.shape);
  const wj = x.share!.add(mj);
  const [theirs, vmj] = await Promise.all([
    p.link(p.id === CLIENT ? SERVER : CLIENT).exchangeI64('mulbit.w', wj.data),
    p.id === CLIENT ? Promise.resolve(p.prf(HELPER).ring(`${label}:vm`, x.shape).data) : p.link(HELPER).recvI64('mulbit.vm', x.size),
  ]);
  const w = wj.addInPlace(new RingTensor(theirs, x.shape));
  return new Shared(x.shape, combineProduct(b, x.share!, w, new RingTensor(vmj, x.shape)));
}

/** [x*b]_j = u ? x_j - [v*x]_j : [v*x]_j with [v*x]_j = v_j * w - [v*m]_j. */
export function combineProduct(b: SharedBit, xj: RingTensor, w: RingTensor, vmj: RingTensor): RingTensor {
  const vx = b.vShare!.reshape(xj.shape).mul(w).subInPlace(vmj);
  return pick(b.u!, xj.sub(vx), vx);
}

/** Twin: x * b. */
export const mulBitClear = (b: Uint8Array, x: RingTensor): RingTensor => x.mul(bitsToRing(b, x.shape));

/** w both ways (16 bytes per element) and the helper's share of v*m (8 bytes); one round. */
export const mulBitCost = (n: number): Cost => ({ bytes: { '0>1': 8 * n, '1>0': 8 * n, '2>1': 8 * n }, rounds: 1 });

