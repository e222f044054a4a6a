/**
 * clip: Clip(x, 0, max) for a positive bound (ONNX's Clip with min 0; ReLU6 is max = 6), a ReLU-like
 * node whose layer takes patch specs: with patch sizes the lower bound is a patch ReLU and the upper clip
 * stays per pixel. Float gradients pass where the pixel was kept and is below max. Fixed point:
 * min(patchReluFixed(x), round(max * 2^f)); secure: patchClip (for plain layers, clip's two concurrent
 * comparisons).
 * @module
 */
import { encodeFixed } from '@si/ring';
import { GraphError } from '../graph.ts';
import { defineOp } from './op.ts';
import { cappedForward, maskBackward, onMaps } from './relu.ts';
import { registerOp } from './table.ts';

declare module '../graph.ts' {
  interface OpTypes {
    clip: { layer: string; max: number };
  }
}

export const clip = registerOp(defineOp({
  op: 'clip',
  shape(a, [x], name) {
    if (!(a.max > 0 && Number.isFinite(a.max))) throw new GraphError(`${name}: clip needs a positive finite max, got ${a.max}`);
    return x!;
  },
  layer: (n) => n.layer,
  clipped: true,
  forward: (c, n, [x]) => cappedForward(c, n, x!, n.max),
  backward: (c, _n, dy, cache) => ({ dx: [maskBackward(c.pool, dy, cache as Uint8Array)] }),
  ring: (be, n, [x]) => onMaps(be, x!, (x4, C) => be.patchClip(n, x4, be.sizes(n.layer, C), encodeFixed([n.max], be.f).data[0]!)),
}));
