/**
 * Beaver multiplication for any bilinear operation op (elementwise product, matmul, conv2d) when both
 * operands are shared. The helper deals the triple (A, B, C = op(A, B)): P0's A0, B0 come from the
 * P0/P2 PRF stream, P1's A1, B1, C1 from the P1/P2 stream, so the helper's only message is the
 * correction C0 = op(A0 + A1, B0 + B1) - C1 to P0.
 *
 * Steps (j = 0, 1):
 *   1. P_j opens E_j = X_j - A_j and F_j = Y_j - B_j to the other (one message each way: one round);
 *      E = E0 + E1 = X - A, F = F0 + F1 = Y - B.
 *   2. Z_j = op(X_j, F) + op(E, Y_j) + C_j - j * op(E, F).
 * Sum: op(X, F) + op(E, Y) - op(E, F) + op(A, B) = op(X, Y) by bilinearity.
 * @module
 */
import { conv2d, convGeometry, matmul, RingTensor, type Conv2dOptions } from '@si/ring';
import type { Cost } from './cost.ts';
import type { Party } from './party.ts';
import { Shared } from './shared.ts';
import { CLIENT, HELPER, SERVER } from './roles.ts';

/** A bilinear map of ring tensors and its output shape. */
export interface Bilinear {
  readonly name: string;
  apply(a: RingTensor, b: RingTensor): RingTensor;
  outShape(a: readonly number[], b: readonly number[]): number[];
}

/** Elementwise product (same shapes). */
export const elementwise: Bilinear = {
  name: 'mul',
  apply: (a, b) => a.mul(b),
  outShape: (a, b) => {
    if (a.length !== b.length || a.some((d, i) => d !== b[i])) throw new RangeError(`"y" expected shape [${a.join(',')}], got [${b.join(',')}]`);
    return [...a];
  },
};

/** Matrix product [m, k] x [k, n]. */
export const matmulOp: Bilinear = {
  name: 'matmul',
  apply: matmul,
  outShape: (a, b) => {
    if (a.length !== 2 || b.length !== 2 || a[1] !== b[0]) throw new RangeError(`cannot multiply [${a.join(',')}] by [${b.join(',')}]`);
    return [a[0]!, b[1]!];
  },
};

/** conv2d(x, w) with fixed options. */
export function convOp(opts: Conv2dOptions = {}): Bilinear {
  return {
    name: 'conv2d',
    apply: (x, w) => conv2d(x, w, opts),
    outShape: (x, w) => {
      const g = convGeometry(x, w, opts);
      return [g.N, g.O, g.OH, g.OW];
    },
  };
}

/**
 * Shared op(x, y) for shared x and y.
 * @throws {LinkClosedError} when a peer fails
 */
export async function beaver(p: Party, x: Shared, y: Shared, op: Bilinear): Promise<Shared> {
  const zShape = op.outShape(x.shape, y.shape);
  const label = p.label(op.name);
  if (p.id === HELPER) {
    const a0 = p.prf(CLIENT).ring(`${label}:A`, x.shape), b0 = p.prf(CLIENT).ring(`${label}:B`, y.shape);
    const a1 = p.prf(SERVER).ring(`${label}:A`, x.shape), b1 = p.prf(SERVER).ring(`${label}:B`, y.shape);
    const c1 = p.prf(SERVER).ring(`${label}:C`, zShape);
    const c0 = op.apply(a0.addInPlace(a1), b0.addInPlace(b1)).subInPlace(c1);
    p.link(CLIENT).send('beaver.C0', c0.data);
    return new Shared(zShape, null);
  }
  const dealer = p.prf(HELPER);
  const a = dealer.ring(`${label}:A`, x.shape), b = dealer.ring(`${label}:B`, y.shape);
  const cPromise = p.id === CLIENT ? p.link(HELPER).recvI64('beaver.C0', zShape.reduce((s, d) => s * d, 1)) : null;
  const c1 = p.id === SERVER ? dealer.ring(`${label}:C`, zShape) : null;
  const x_ = x.share!, y_ = y.share!;
  const mine = new BigInt64Array(x_.size + y_.size);
  mine.set(x_.sub(a).data);
  mine.set(y_.sub(b).data, x_.size);
  const theirs = await p.link(p.id === CLIENT ? SERVER : CLIENT).exchangeI64('beaver.EF', mine);
  const e = new RingTensor(mine.subarray(0, x_.size), x.shape).addInPlace(new RingTensor(theirs.subarray(0, x_.size), x.shape));
  const f = new RingTensor(mine.subarray(x_.size), y.shape).addInPlace(new RingTensor(theirs.subarray(x_.size), y.shape));
  const z = op.apply(x_, f).addInPlace(op.apply(e, y_));
  if (p.id === CLIENT) z.addInPlace(new RingTensor(await cPromise!, zShape));
  else z.addInPlace(c1!).subInPlace(op.apply(e, f));
  return new Shared(zShape, z);
}

/** Twin: op(x, y). */
export const beaverClear = (x: RingTensor, y: RingTensor, op: Bilinear): RingTensor => op.apply(x, y);

/** (E, F) both ways and the helper's correction: 8 (2|X| + 2|Y| + |Z|) bytes, one round. */
export function beaverCost(xSize: number, ySize: number, zSize: number): Cost {
  return { bytes: { '0>1': 8 * (xSize + ySize), '1>0': 8 * (xSize + ySize), '2>0': 8 * zSize }, rounds: 1 };
}
