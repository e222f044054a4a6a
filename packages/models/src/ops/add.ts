/**
 * add: elementwise sum of two equal-shaped inputs (residual connections). Local on shares.
 * @module
 */
import { GraphError } from '../graph.ts';
import { defineOp } from './op.ts';
import { registerOp } from './table.ts';

declare module '../graph.ts' {
  interface OpTypes {
    add: Record<never, never>;
  }
}

export const add = registerOp(defineOp({
  op: 'add',
  shape(_a, [a, b], name) {
    if (a!.join() !== b!.join()) throw new GraphError(`${name}: cannot add [${a}] and [${b}]`);
    return a!;
  },
  forward(c, _n, [a, b]) {
    const y = c.pool.f32(a!.length);
    for (let i = 0; i < a!.length; i++) y[i] = a![i]! + b![i]!;
    return { y };
  },
  backward(c, _n, dy) {
    const copy = () => {
      const g = c.pool.f32(dy.length);
      g.set(dy);
      return g;
    };
    return { dx: [copy(), copy()] };
  },
  ring: (be, _n, [a, b]) => be.local([a!, b!], ([p, q]) => p!.add(q!), be.shape(a!)),
}));
