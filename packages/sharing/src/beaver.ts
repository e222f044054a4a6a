/**
 * Beaver multiplication for any bilinear operation op (elementwise product, matmul, conv2d) when both
 * operands are shared. The dealer's triple (A, B, C = op(A, B)): A and B come from each party's stream
 * with the helper, and the helper's only message is P1's share of C.
 *
 * Steps (j = 0, 1):
 *   1. P_j opens E_j = X_j - A_j and F_j = Y_j - B_j to the other (one message each way: one round);
 *      E = E0 + E1 = X - A, F = F0 + F1 = Y - B.
 *   2. Z_j = op(X_j, F) + op(E, Y_j) + C_j - j * op(E, F).
 * Sum: op(X, F) + op(E, Y) - op(E, F) + op(A, B) = op(X, Y) by bilinearity.
 * @module
 */
import { conv2d, convGeometry, matmul, RingTensor, shapeSize, type Conv2dOptions } from '@si/ring';
import { messages, type Cost } from './cost.ts';
import { dealer } from './dealer.ts';
import type { Party } from './party.ts';
import { protocol } from './protocol.ts';
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
export function convOp(opts: Conv2dOptions = {}): Bilinear & { opts: Conv2dOptions } {
  return {
    name: 'conv2d',
    opts,
    apply: (x, w) => conv2d(x, w, opts),
    outShape: (x, w) => {
      const g = convGeometry(x, w, opts);
      return [g.N, g.O, g.OH, g.OW];
    },
  };
}

async function beaverRun(p: Party, x: Shared, y: Shared, op: Bilinear): Promise<Shared> {
  const zShape = op.outShape(x.shape, y.shape);
  return p.scope(op.name, async (q) => {
    const { a, b, c } = dealer(q).triple(op.apply, x.shape, y.shape, zShape);
    if (q.id === HELPER) return new Shared(zShape, null);
    const x_ = x.share!, y_ = y.share!;
    const mine = new BigInt64Array(x_.size + y_.size);
    mine.set(x_.sub(a).data);
    mine.set(y_.sub(b).data, x_.size);
    const theirs = await q.link(q.id === CLIENT ? SERVER : CLIENT).exchangeI64('EF', mine);
    const e = new RingTensor(mine.subarray(0, x_.size), x.shape).addInPlace(new RingTensor(theirs.subarray(0, x_.size), x.shape));
    const f = new RingTensor(mine.subarray(x_.size), y.shape).addInPlace(new RingTensor(theirs.subarray(x_.size), y.shape));
    const z = op.apply(x_, f).addInPlace(op.apply(e, y_)).addInPlace((await c)!);
    if (q.id === SERVER) z.subInPlace(op.apply(e, f));
    return new Shared(zShape, z);
  });
}

/** (E, F) both ways and the helper's share of C: 8 (2|X| + 2|Y| + |Z|) bytes, one round. */
export function beaverCost(xSize: number, ySize: number, zSize: number): Cost {
  return messages([['2>1', 8 * zSize], ['0>1', 8 * (xSize + ySize)], ['1>0', 8 * (xSize + ySize)]]);
}

interface BeaverParams {
  op: Bilinear;
  x: readonly number[];
  y: readonly number[];
}

/**
 * Shared op(x, y) for shared x and y (Beaver, with a dealt triple), in a scope named after the op.
 * @throws {RangeError} when the shapes do not fit the op; {LinkClosedError} when a peer fails
 */
export const beaver = protocol(beaverRun, {
  name: 'beaver',
  inputs: (o: BeaverParams) => [{ shape: o.x }, { shape: o.y }],
  run: (p, [x, y], o) => beaverRun(p, x as Shared, y as Shared, o.op),
  clear: ([x, y], o) => clearBilinear(x!, y!, o.op),
  cost: (o) => beaverCost(shapeSize(o.x), shapeSize(o.y), shapeSize(o.op.outShape(o.x, o.y))),
  examples: [
    { op: elementwise, x: [2, 33], y: [2, 33] },
    { op: matmulOp, x: [5, 7], y: [7, 3] },
    { op: convOp({ padding: 1, stride: [1, 2] }), x: [2, 3, 6, 5], y: [4, 3, 3, 3] },
    { op: convOp({ groups: 4, dilation: 2, padding: 2 }), x: [1, 4, 5, 5], y: [4, 1, 3, 3] },
  ],
});

/**
 * The twin of a bilinear op, computed element by element in BigInt from its definition (independent of
 * the WebAssembly kernels the protocols use): elementwise product, matmul, or conv2d.
 */
export function clearBilinear(x: RingTensor, y: RingTensor, op: Bilinear): RingTensor {
  const zShape = op.outShape(x.shape, y.shape);
  const out = new BigInt64Array(shapeSize(zShape));
  const X = x.data, Y = y.data;
  if (op.name === 'mul') for (let i = 0; i < out.length; i++) out[i] = BigInt.asIntN(64, X[i]! * Y[i]!);
  else if (op.name === 'matmul') {
    const [m, k] = x.shape as [number, number], n = y.shape[1]!;
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0n;
        for (let t = 0; t < k; t++) s += X[i * k + t]! * Y[t * n + j]!;
        out[i * n + j] = BigInt.asIntN(64, s);
      }
  } else {
    const g = convGeometry(x.shape, y.shape, (op as Bilinear & { opts: Conv2dOptions }).opts);
    const { N, C, H, W, O, KH, KW, OH, OW, Cg: cg, Og: og } = g;
    for (let n = 0; n < N; n++)
      for (let o = 0; o < O; o++)
        for (let oh = 0; oh < OH; oh++)
          for (let ow = 0; ow < OW; ow++) {
            let s = 0n;
            const gi = Math.floor(o / og);
            for (let c = 0; c < cg; c++)
              for (let i = 0; i < KH; i++)
                for (let j = 0; j < KW; j++) {
                  const h = oh * g.SH - g.padTop + i * g.DH, w = ow * g.SW - g.padLeft + j * g.DW;
                  if (h < 0 || h >= H || w < 0 || w >= W) continue;
                  s += X[((n * C + gi * cg + c) * H + h) * W + w]! * Y[((o * cg + c) * KH + i) * KW + j]!;
                }
            out[((n * O + o) * OH + oh) * OW + ow] = BigInt.asIntN(64, s);
          }
  }
  return new RingTensor(out, zShape);
}
