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

/**
 * Float32 forward: y = x * mask and the mask (1 where the pixel's patch sum is >= 0).
 * @param shape - [N, C, H, W]
 */
export function patchReluF32(x: Float32Array, shape: readonly number[], sizes: readonly PatchSize[]): { y: Float32Array; mask: Uint8Array } {
  const [N, C, H, W] = dims(shape, sizes);
  const y = new Float32Array(x.length), mask = new Uint8Array(x.length);
  const sums = new Float64Array(H * W);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const s = sizes[c]!, base = (n * C + c) * H * W;
      const kind = kindOf(s);
      if (kind === 'zero') continue;
      if (kind === 'identity') {
        y.set(x.subarray(base, base + H * W), base);
        mask.fill(1, base, base + H * W);
        continue;
      }
      const ph = Math.min(s[0], H), pw = Math.min(s[1], W), PW = Math.ceil(W / pw);
      sums.fill(0);
      for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) sums[Math.floor(h / ph) * PW + Math.floor(w / pw)]! += x[base + h * W + w]!;
      for (let h = 0; h < H; h++)
        for (let w = 0; w < W; w++) {
          const keep = sums[Math.floor(h / ph) * PW + Math.floor(w / pw)]! >= 0 ? 1 : 0;
          mask[base + h * W + w] = keep;
          if (keep) y[base + h * W + w] = x[base + h * W + w]!;
        }
    }
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
 * Fixed-point form (the cleartext twin of the exact, full-width secure layer): the sign of each patch sum
 * over Z_2^64 read as a signed integer.
 */
export function patchReluFixed(x: RingTensor, sizes: readonly PatchSize[]): RingTensor {
  const keep = (sum: bigint): boolean => BigInt.asIntN(64, sum) >= 0n;
  return applyMask(x, sizes, (vals) => {
    let s = 0n;
    for (const v of vals) s += v;
    return keep(s);
  });
}

/** Applies a per-patch decision `keep(values of the patch)` to a fixed-point tensor (test-size helper). */
function applyMask(x: RingTensor, sizes: readonly PatchSize[], keep: (vals: bigint[], n: number, c: number, patch: number) => boolean): RingTensor {
  const [N, C, H, W] = dims(x.shape, sizes);
  const out = new BigInt64Array(x.size);
  const o = words(out), s = words(x.data);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const size = sizes[c]!, base = (n * C + c) * H * W;
      const kind = kindOf(size);
      if (kind === 'zero') continue;
      if (kind === 'identity') {
        out.set(x.data.subarray(base, base + H * W), base);
        continue;
      }
      const ph = Math.min(size[0], H), pw = Math.min(size[1], W), PH = Math.ceil(H / ph), PW = Math.ceil(W / pw);
      for (let a = 0; a < PH; a++)
        for (let b = 0; b < PW; b++) {
          const idx: number[] = [];
          for (let h = a * ph; h < Math.min(H, (a + 1) * ph); h++) for (let w = b * pw; w < Math.min(W, (b + 1) * pw); w++) idx.push(base + h * W + w);
          if (!keep(idx.map((i) => x.data[i]!), n, c, a * PW + b)) continue;
          for (const i of idx) (o[2 * i] = s[2 * i]!, o[2 * i + 1] = s[2 * i + 1]!);
        }
    }
  return new RingTensor(out, x.shape);
}
