/**
 * flatten: [C, H, W] to [C*H*W] per image (a view; local on shares).
 * @module
 */
import { defineOp } from './op.ts';
import { registerOp } from './table.ts';
import { shapeSize } from '@si/ring';

declare module '../graph.ts' {
  interface OpTypes {
    flatten: Record<never, never>;
  }
}

export const flatten = registerOp(defineOp({
  op: 'flatten',
  shape: (_a, [x]) => [shapeSize(x!)],
  forward(c, _n, [x]) {
    const y = c.pool.f32(x!.length);
    y.set(x!);
    return { y };
  },
  backward(c, _n, dy) {
    const g = c.pool.f32(dy.length);
    g.set(dy);
    return { dx: [g] };
  },
  ring(be, n, [x]) {
    const N = be.shape(x!)[0]!;
    return be.local([x!], ([r]) => r!.reshape([N, -1]), [N, ...n.shape]);
  },
}));
