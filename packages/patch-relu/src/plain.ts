/**
 * Patch ReLU in the clear. Within a channel with patch size (ph, pw), every pixel of a patch keeps its
 * value when the patch **sum** is >= 0 and becomes 0 otherwise (the sum has the sign of the mean; shares
 * are never divided by a non-power of two). Identity channels pass through; zero channels output 0.
 * @module
 */
import { RingTensor, words } from '@si/ring';
import { kindOf, type PatchSize } from './spec.ts';

function dims(shape: readonly number[], sizes: readonly PatchSize[]): [number, number, number, number] {
  if (shape.length !== 4) throw new RangeError(`"x" expected shape [N,C,H,W], got [${shape.join(',')}]`);
  const [N, C, H, W] = shape as [number, number, number, number];
  if (sizes.length !== C) throw new RangeError(`${sizes.length} patch sizes for ${C} channels`);
  return [N, C, H, W];
}

/** A patch: rows [h0, h1) and columns [w0, w1) of the map starting at flat index `base` (width W). */
interface Patch {
  base: number; W: number; h0: number; h1: number; w0: number; w1: number;
}

/**
 * Visits each map of an [N, C, H, W] tensor by its channel's kind: `copy(base, len)` for identity maps,
 * nothing for zero maps, and `patch(p)` for each patch otherwise.
 */
function eachPatch(shape: readonly number[], sizes: readonly PatchSize[], copy: (base: number, len: number) => void, patch: (p: Patch) => void): void {
  const [N, C, H, W] = dims(shape, sizes);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const size = sizes[c]!, base = (n * C + c) * H * W;
      const kind = kindOf(size);
      if (kind === 'zero') continue;
      if (kind === 'identity') {
        copy(base, H * W);
        continue;
      }
      const ph = Math.min(size[0], H), pw = Math.min(size[1], W);
      const p: Patch = { base, W, h0: 0, h1: 0, w0: 0, w1: 0 };
      for (p.h0 = 0; p.h0 < H; p.h0 += ph)
        for (p.w0 = 0; p.w0 < W; p.w0 += pw) {
          p.h1 = Math.min(H, p.h0 + ph);
          p.w1 = Math.min(W, p.w0 + pw);
          patch(p);
        }
    }
}

/**
 * Float32 forward: y = x * mask and the mask (1 where the pixel's patch sum is >= 0).
 * @param shape - [N, C, H, W]
 * @param out - buffers to write into (overwritten; e.g. from a reuse pool) instead of new ones
 */
export function patchReluF32(
  x: Float32Array, shape: readonly number[], sizes: readonly PatchSize[], out?: { y: Float32Array; mask: Uint8Array },
): { y: Float32Array; mask: Uint8Array } {
  if (out && (out.y.length !== x.length || out.mask.length !== x.length)) throw new RangeError(`"out" expected ${x.length} values and mask bytes, got ${out.y.length} and ${out.mask.length}`);
  const y = out ? out.y.fill(0) : new Float32Array(x.length), mask = out ? out.mask.fill(0) : new Uint8Array(x.length);
  eachPatch(shape, sizes, (base, len) => (y.set(x.subarray(base, base + len), base), mask.fill(1, base, base + len)), (p) => {
    let sum = 0;
    for (let h = p.h0; h < p.h1; h++) for (let i = p.base + h * p.W + p.w0, e = p.base + h * p.W + p.w1; i < e; i++) sum += x[i]!;
    if (sum < 0) return;
    for (let h = p.h0; h < p.h1; h++) for (let i = p.base + h * p.W + p.w0, e = p.base + h * p.W + p.w1; i < e; i++) (mask[i] = 1), (y[i] = x[i]!);
  });
  return { y, mask };
}

/** Float32 backward (straight-through): the gradient passes where the patch sign kept the pixel. */
export function patchReluBackwardF32(gradOut: Float32Array, mask: Uint8Array): Float32Array {
  if (gradOut.length !== mask.length) throw new RangeError(`gradient has ${gradOut.length} values, mask ${mask.length}`);
  const g = new Float32Array(gradOut.length);
  for (let i = 0; i < g.length; i++) if (mask[i]) g[i] = gradOut[i]!;
  return g;
}

/**
 * Fixed-point form (the cleartext twin of the secure layer): every pixel of a patch keeps its value when
 * the patch sum, over Z_2^64 read as a signed integer (BigInt), is >= 0.
 */
export function patchReluFixed(x: RingTensor, sizes: readonly PatchSize[]): RingTensor {
  const out = new BigInt64Array(x.size);
  const o = words(out), s = words(x.data);
  eachPatch(x.shape, sizes, (base, len) => out.set(x.data.subarray(base, base + len), base), (p) => {
    let sum = 0n;
    for (let h = p.h0; h < p.h1; h++) for (let i = p.base + h * p.W + p.w0; i < p.base + h * p.W + p.w1; i++) sum += x.data[i]!;
    if (BigInt.asIntN(64, sum) < 0n) return;
    for (let h = p.h0; h < p.h1; h++) for (let i = p.base + h * p.W + p.w0; i < p.base + h * p.W + p.w1; i++) (o[2 * i] = s[2 * i]!), (o[2 * i + 1] = s[2 * i + 1]!);
  });
  return new RingTensor(out, x.shape);
}
