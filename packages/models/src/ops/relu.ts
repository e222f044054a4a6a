/**
 * relu: max(x, 0), or, with a patch spec for its layer, a patch ReLU (@si/patch-relu: one sign per patch
 * of each channel, the sign of the patch sum). Float gradients pass straight through where the pixel
 * was kept. Fixed point: the exact sign of each patch sum (patchReluFixed); secure: patchRelu with the
 * run's comparison mode. Flat activations (after a linear layer) are channels of 1x1 maps.
 * @module
 */
import { kindOf, patchReluF32, type PatchSize } from '@si/patch-relu';
import { maskMulF32, reluMaskF32 } from '@si/ring';
import type { Shape } from '../graph.ts';
import type { BufferPool } from '../float/pool.ts';
import { defineOp, type Backend, type FloatCtx, type FloatForward } from './op.ts';
import { registerOp } from './table.ts';

declare module '../graph.ts' {
  interface OpTypes {
    relu: { layer: string };
  }
}

/** The layer's patch sizes in a float run, or undefined when every channel is a plain ReLU. */
function patchSizesF32(c: FloatCtx, layer: string): readonly PatchSize[] | undefined {
  const sizes = c.spec?.[layer];
  return sizes === undefined || sizes.every((s) => kindOf(s) === 'relu') ? undefined : sizes;
}

/** [N, C, H, W] of a ReLU input (flat [N, C] is C maps of 1x1). */
const maps = (N: number, s: Shape): number[] => (s.length === 1 ? [N, s[0]!, 1, 1] : [N, ...s]);

/** A float ReLU capped at `cap` (Infinity for a ReLU); the mask marks where the gradient passes. */
function reluF32(P: BufferPool, x: Float32Array, cap: number): { y: Float32Array; mask: Uint8Array } {
  const y = P.f32(x.length), mask = P.u8(x.length);
  reluMaskF32(x, cap, y, mask);
  return { y, mask };
}

/** dx = dy where the mask passes, 0 elsewhere. */
export function maskBackward(P: BufferPool, dy: Float32Array, mask: Uint8Array): Float32Array {
  const dx = P.f32(dy.length);
  maskMulF32(dy, mask, dx);
  return dx;
}

/**
 * The float forward of a ReLU-like node: min(max(x, 0), cap) per pixel, or, with patch sizes for its
 * layer, min(patchRelu(x), cap); the cache is the mask where the gradient passes (kept and below cap).
 */
export function cappedForward(c: FloatCtx, n: { layer: string; inputs: string[] }, x: Float32Array, cap: number): FloatForward {
  const sizes = patchSizesF32(c, n.layer);
  let r: { y: Float32Array; mask: Uint8Array };
  if (!sizes) r = reluF32(c.pool, x, cap);
  else {
    r = patchReluF32(x, maps(c.N, c.graph.node(n.inputs[0]!).shape), sizes, { y: c.pool.f32(x.length), mask: c.pool.u8(x.length) });
    for (let i = 0; i < r.y.length; i++) if (r.y[i]! >= cap) (r.y[i] = cap), (r.mask[i] = 0);
  }
  return { y: r.y, ...(c.keep ? { cache: r.mask } : {}) };
}

/** Runs `fn` on the ReLU input as [N, C, H, W] and gives the result the input's shape back. */
export async function onMaps<T>(be: Backend<T>, x: T, fn: (x4: T, C: number) => Promise<T>): Promise<T> {
  const shape = be.shape(x);
  if (shape.length !== 2) return fn(x, shape[1]!);
  const s4 = [shape[0]!, shape[1]!, 1, 1];
  const y = await fn(be.local([x], ([r]) => r!.reshape(s4), s4), shape[1]!);
  return be.local([y], ([r]) => r!.reshape(shape), shape);
}

export const relu = registerOp(defineOp({
  op: 'relu',
  shape: (_a, [x]) => x!,
  layer: (n) => n.layer,
  forward: (c, n, [x]) => cappedForward(c, n, x!, Infinity),
  backward: (c, _n, dy, cache) => ({ dx: [maskBackward(c.pool, dy, cache as Uint8Array)] }),
  ring: (be, n, [x]) => onMaps(be, x!, (x4, C) => be.patchRelu(n, x4, be.sizes(n.layer, C))),
}));
