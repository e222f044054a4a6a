/**
 * gap: global average pooling, [C, H, W] to [C, 1, 1]. Fixed point: the sum times round(2^f / (H W)),
 * truncated by f (a public factor: local on shares, then the usual truncation).
 * @module
 */
import { averagingFactor } from './avgpool.ts';
import { defineOp } from './op.ts';
import { registerOp } from './table.ts';

declare module '../graph.ts' {
  interface OpTypes {
    gap: Record<never, never>;
  }
}

export const gap = registerOp(defineOp({
  op: 'gap',
  shape: (_a, [x]) => [x![0]!, 1, 1],
  forward(c, n, [x]) {
    const C = n.shape[0]!, HW = x!.length / (c.N * C);
    const y = c.pool.f32(c.N * C);
    for (let i = 0; i < c.N * C; i++) {
      let s = 0;
      for (let p = 0; p < HW; p++) s += x![i * HW + p]!;
      y[i] = s / HW;
    }
    return { y };
  },
  backward(c, n, dy) {
    const C = n.shape[0]!, [, H, W] = c.graph.node(n.inputs[0]!).shape as [number, number, number], HW = H * W;
    const g = c.pool.f32(c.N * C * HW);
    for (let i = 0; i < c.N * C; i++) g.fill(dy[i]! / HW, i * HW, (i + 1) * HW);
    return { dx: [g] };
  },
  ring(be, _n, [x]) {
    const [N, C, H, W] = be.shape(x!) as [number, number, number, number];
    const factor = BigInt(averagingFactor(be.f, H * W));
    const shape = [N, C, 1, 1];
    return be.truncate(be.local([x!], ([r]) => r!.reshape([N, C, H * W]).sum(2).mulScalar(factor).reshape(shape), shape), be.f);
  },
}));
