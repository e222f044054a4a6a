/**
 * input: the graph's input (its shape is the per-image input shape; the walk passes the batch in).
 * @module
 */
import { GraphError } from '../graph.ts';
import { defineOp } from './op.ts';
import { registerOp } from './table.ts';

export const input = registerOp(defineOp({
  op: 'input',
  shape(_a, _x, name) {
    throw new GraphError(`${name}: an input node is made by the GraphBuilder, not added`);
  },
  forward: (_c, _n, [x]) => ({ y: x! }),
  backward: () => ({ dx: [] }),
  ring: (_be, _n, [x]) => x!,
}));
