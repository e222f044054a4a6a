/**
 * relu6: min(max(x, 0), 6) (torchvision's MobileNetV2). With a patch spec for its layer the lower bound
 * is a patch ReLU (one sign per patch of each channel) and the upper clip stays per pixel. Float
 * gradients pass where the pixel was kept and is below 6. Fixed point: min(patchReluFixed(x), 6 * 2^f);
 * secure: patchClip (@si/patch-relu), which for plain ReLU6 layers runs both comparisons at once.
 * @module
 */
import { patchReluF32 } from '@si/patch-relu';
import { defineOp } from './op.ts';
import { maps, maskBackward, onMaps, patchSizesF32, reluF32 } from './relu.ts';
import { registerOp } from './table.ts';

declare module '../graph.ts' {
  interface OpTypes {
    relu6: { layer: string };
  }
}

export const relu6 = registerOp(defineOp({
  op: 'relu6',
  shape: (_a, [x]) => x!,
  layer: (n) => n.layer,
  forward(c, n, [x]) {
    const sizes = patchSizesF32(c, n.layer);
    if (!sizes) {
      const r = reluF32(c.pool, x!, 6);
      return { y: r.y, ...(c.keep ? { cache: r.mask } : {}) };
    }
    const { y, mask } = patchReluF32(x!, maps(c.N, c.graph.node(n.inputs[0]!).shape), sizes);
    for (let i = 0; i < y.length; i++)
      if (y[i]! >= 6) {
        y[i] = 6;
        mask[i] = 0;
      }
    return { y, ...(c.keep ? { cache: mask } : {}) };
  },
  backward: (c, _n, dy, cache) => ({ dx: [maskBackward(c.pool, dy, cache as Uint8Array)] }),
  ring: (be, n, [x]) => onMaps(be, x!, (x4, C) => be.patchClip(n, x4, be.sizes(n.layer, C), 6n << BigInt(be.f))),
}));
