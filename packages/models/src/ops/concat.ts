/**
 * concat: channel concatenation of [C_i, H, W] maps (ASPP branches). Local on shares.
 * @module
 */
import { RingTensor } from '@si/ring';
import { GraphError } from '../graph.ts';
import { defineOp } from './op.ts';
import { registerOp } from './table.ts';

declare module '../graph.ts' {
  interface OpTypes {
    concat: Record<never, never>;
  }
}

export const concat = registerOp(defineOp({
  op: 'concat',
  shape(_a, xs, name) {
    const [, H, W] = xs[0] as [number, number, number];
    for (const s of xs) if (s[1] !== H || s[2] !== W) throw new GraphError(`${name}: concat needs equal maps, got [${s}] and [${xs[0]}]`);
    return [xs.reduce((a, s) => a + s[0]!, 0), H, W];
  },
  forward(c, n, xs) {
    const HW = n.shape[1]! * n.shape[2]!;
    const y = c.pool.f32(c.N * n.shape[0]! * HW);
    for (let b = 0; b < c.N; b++) {
      let off = b * n.shape[0]! * HW;
      n.inputs.forEach((name, i) => {
        const len = c.graph.node(name).shape[0]! * HW;
        y.set(xs[i]!.subarray(b * len, (b + 1) * len), off);
        off += len;
      });
    }
    return { y };
  },
  backward(c, n, dy) {
    const HW = n.shape[1]! * n.shape[2]!;
    let off = 0;
    const dx = n.inputs.map((name) => {
      const ch = c.graph.node(name).shape[0]!;
      const g = c.pool.f32(c.N * ch * HW);
      for (let b = 0; b < c.N; b++) g.set(dy.subarray(b * n.shape[0]! * HW + off * HW, b * n.shape[0]! * HW + (off + ch) * HW), b * ch * HW);
      off += ch;
      return g;
    });
    return { dx };
  },
  ring: (be, n, xs) => be.local(xs, (rs) => RingTensor.concatChannels(rs), [be.shape(xs[0]!)[0]!, ...n.shape]),
}));
