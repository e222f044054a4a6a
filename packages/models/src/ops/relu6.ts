/**
 * relu6: min(max(x, 0), 6) (torchvision's MobileNetV2). With a patch spec for its layer the lower bound
 * is a patch ReLU (one sign per patch of each channel) and the upper clip stays per pixel. Float
 * gradients pass where the pixel was kept and is below 6. Fixed point: min(patchReluFixed(x), 6 * 2^f);
 * secure: patchClip (@si/patch-relu), which for plain ReLU6 layers runs both comparisons at once.
 * @module
 */
import { defineOp } from './op.ts';
import { cappedForward, maskBackward, onMaps } from './relu.ts';
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
  clipped: true,
  forward: (c, n, [x]) => cappedForward(c, n, x!, 6),
  backward: (c, _n, dy, cache) => ({ dx: [maskBackward(c.pool, dy, cache as Uint8Array)] }),
  ring: (be, n, [x]) => onMaps(be, x!, (x4, C) => be.patchClip(n, x4, be.sizes(n.layer, C), 6n << BigInt(be.f))),
}));
