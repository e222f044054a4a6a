/**
 * reshape: the same values per image under another shape (ONNX Reshape to a static shape, Unsqueeze and
 * Squeeze of size-1 dimensions). A view: local on shares.
 * @module
 */
import { shapeSize } from '@si/ring';
import { GraphError } from '../graph.ts';
import { defineOp } from './op.ts';
import { registerOp } from './table.ts';

declare module '../graph.ts' {
  interface OpTypes {
    reshape: { to: number[] };
  }
}

export const reshape = registerOp(defineOp({
  op: 'reshape',
  shape(a, [x], name) {
    if (shapeSize(a.to) !== shapeSize(x!) || a.to.some((d) => !(Number.isInteger(d) && d > 0)))
      throw new GraphError(`${name}: cannot reshape [${x}] (per image) to [${a.to}]`);
    return a.to;
  },
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
    return be.local([x!], ([r]) => r!.reshape([N, ...n.to]), [N, ...n.to]);
  },
}));
