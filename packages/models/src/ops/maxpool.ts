/**
 * maxpool: max pooling (k x k, stride, padding never wins). Fixed point: the signed window maximum;
 * secure: @si/relu-protocols' maxpool (a tree of batched ReLUs on differences, so activations must stay
 * within half the comparison window).
 * @module
 */
import { RingTensor, shapeSize } from '@si/ring';
import { poolGeom, poolShape, type PoolGeom } from './avgpool.ts';
import type { BufferPool } from '../float/pool.ts';
import { defineOp } from './op.ts';
import { registerOp } from './table.ts';

declare module '../graph.ts' {
  interface OpTypes {
    maxpool: { kernel: number; stride: number; padding: number };
  }
}

function maxPoolForward(P: BufferPool, x: Float32Array, g: PoolGeom): { y: Float32Array; arg: Int32Array } {
  const n = g.N * g.C * g.OH * g.OW;
  const y = P.f32(n), arg = P.i32(n);
  for (let nc = 0; nc < g.N * g.C; nc++)
    for (let oh = 0; oh < g.OH; oh++)
      for (let ow = 0; ow < g.OW; ow++) {
        let best = -Infinity, at = -1;
        for (let i = 0; i < g.k; i++) for (let j = 0; j < g.k; j++) {
          const h = oh * g.s - g.p + i, w = ow * g.s - g.p + j;
          if (h < 0 || h >= g.H || w < 0 || w >= g.W) continue;
          const idx = (nc * g.H + h) * g.W + w;
          if (x[idx]! > best) (best = x[idx]!, (at = idx));
        }
        const o = (nc * g.OH + oh) * g.OW + ow;
        y[o] = best;
        arg[o] = at;
      }
  return { y, arg };
}

/** The signed maximum of each window (in-bounds taps), on ring values: the fixed-point twin. */
export function maxpoolFixed(x: RingTensor, k: number, s: number, p: number): RingTensor {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [, OH, OW] = poolShape('maxpool', [C, H, W], k, s, p) as [number, number, number];
  const out = new BigInt64Array(N * C * OH * OW);
  for (let nc = 0; nc < N * C; nc++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++) {
        let best: bigint | null = null;
        for (let h = Math.max(0, oh * s - p); h < Math.min(H, oh * s - p + k); h++)
          for (let w = Math.max(0, ow * s - p); w < Math.min(W, ow * s - p + k); w++) {
            const v = x.data[(nc * H + h) * W + w]!;
            if (best === null || v > best) best = v;
          }
        out[(nc * OH + oh) * OW + ow] = best!;
      }
  return new RingTensor(out, [N, C, OH, OW]);
}

export const maxpool = registerOp(defineOp({
  op: 'maxpool',
  shape: (a, [x], name) => poolShape(name, x!, a.kernel, a.stride, a.padding),
  forward(c, n, [x]) {
    const r = maxPoolForward(c.pool, x!, poolGeom(c.N, c.graph.node(n.inputs[0]!).shape, n.shape, n.kernel, n.stride, n.padding));
    return { y: r.y, ...(c.keep ? { cache: r.arg } : {}) };
  },
  backward(c, n, dy, cache) {
    const arg = cache as Int32Array;
    const dx = c.pool.f32(c.N * shapeSize(c.graph.node(n.inputs[0]!).shape), true);
    for (let o = 0; o < dy.length; o++) if (arg[o]! >= 0) dx[arg[o]!]! += dy[o]!;
    return { dx: [dx] };
  },
  ring: (be, n, [x]) => be.maxpool(n, x!, { kernel: n.kernel, stride: n.stride, padding: n.padding }),
}));
