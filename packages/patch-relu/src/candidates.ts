/**
 * Candidate patch sizes and their cost.
 *
 * Cost of (ph, pw) on an H x W map: ceil(H/ph) * ceil(W/pw) DReLUs per channel (identity and zero: 0).
 *
 * Rule: along a side of n pixels, a size only matters through the number of patches ceil(n/s), so the
 * candidates per side are the smallest size for each distinct count (n = 56: 1, 2, 3, 4, 5, 6, 7, 8, 10, 12,
 * 14, 19, 28, 56), and the 2-D candidates are all pairs of those, plus identity and zero. Every size in the
 * research code's lists (paper-digest §4) has a candidate with the same patch counts along both sides,
 * hence the same cost; options of equal cost are then merged, keeping the lowest distortion.
 * @module
 */
import { IDENTITY, ZERO, kindOf, type PatchSize } from './spec.ts';

/** The smallest patch side for each distinct patch count along a side of n pixels (ascending). */
export function sideSizes(n: number): number[] {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`"n" expected a positive integer, got ${n}`);
  const out: number[] = [];
  let last = -1;
  for (let s = 1; s <= n; s++) {
    const count = Math.ceil(n / s);
    if (count !== last) out.push(s);
    last = count;
  }
  return out;
}

/** All candidate sizes for an H x W map: the pairs of side sizes, then identity and zero. */
export function candidatePatchSizes(H: number, W: number): PatchSize[] {
  const out: PatchSize[] = [];
  for (const ph of sideSizes(H)) for (const pw of sideSizes(W)) out.push([ph, pw]);
  out.push(IDENTITY, ZERO);
  return out;
}

/**
 * DReLUs one channel costs with patch size s on an H x W map. `clipped`: the layer also clips above
 * (ReLU6, Clip(0, t)), one more DReLU per pixel unless the channel is zeroed.
 */
export function patchCost(s: PatchSize, H: number, W: number, clipped = false): number {
  const k = kindOf(s);
  const upper = clipped && k !== 'zero' ? H * W : 0;
  if (k === 'identity' || k === 'zero') return upper;
  return Math.ceil(H / s[0]) * Math.ceil(W / s[1]) + upper;
}

export interface Option {
  size: PatchSize;
  cost: number;
  /** Distortion (lower is better). */
  value: number;
}

/** Keeps, for each cost, the option with the lowest value (the first one on ties); sorted by cost. */
export function mergeEqualCost(options: readonly Option[]): Option[] {
  const best = new Map<number, Option>();
  for (const o of options) {
    const b = best.get(o.cost);
    if (b === undefined || o.value < b.value) best.set(o.cost, o);
  }
  return [...best.values()].sort((a, b) => a.cost - b.cost);
}
