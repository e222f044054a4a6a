/**
 * Per-group reductions: the Pareto set (no option is both dearer and not better than another) and its
 * lower convex hull, whose segments are the LP relaxation's increments.
 * @module
 */
import type { Group } from './instance.ts';

/** Options of one group sorted by cost with strictly decreasing values (dominated ones dropped). */
export interface Frontier {
  /** Original option indices. */
  idx: Int32Array;
  cost: Float64Array;
  value: Float64Array;
}

/** Pareto frontier of a group: by cost ascending, keeping an option only if it is strictly better. Ties: lowest index. */
export function frontier(g: Group): Frontier {
  const order = g.costs.map((_, j) => j).sort((a, b) => g.costs[a]! - g.costs[b]! || g.values[a]! - g.values[b]! || a - b);
  const idx: number[] = [];
  let best = Infinity;
  for (const j of order) {
    if (g.values[j]! < best) {
      // Same cost as the previous kept option cannot happen with a lower value (sorted by value within a cost).
      idx.push(j);
      best = g.values[j]!;
    }
  }
  return {
    idx: Int32Array.from(idx),
    cost: Float64Array.from(idx, (j) => g.costs[j]!),
    value: Float64Array.from(idx, (j) => g.values[j]!),
  };
}

/** Positions (into the frontier) of its lower convex hull, cheapest first. */
export function hull(f: Frontier): number[] {
  const h: number[] = [];
  for (let k = 0; k < f.cost.length; k++) {
    while (h.length >= 2) {
      const a = h[h.length - 2]!, b = h[h.length - 1]!;
      // Drop b if it lies on or above the segment a -> k.
      const cross = (f.cost[b]! - f.cost[a]!) * (f.value[k]! - f.value[a]!) - (f.value[b]! - f.value[a]!) * (f.cost[k]! - f.cost[a]!);
      if (cross <= 0) h.pop();
      else break;
    }
    h.push(k);
  }
  return h;
}
