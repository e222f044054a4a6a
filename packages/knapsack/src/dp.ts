/**
 * The exact dynamic program over every total cost, the reference for tests and small instances:
 * f_i[c] = min over options j of group i with c_j <= c of f_{i-1}[c - c_j] + v_j, f_0 = 0, answer f_n[B].
 * Time O(groups x budget x options); memory one byte (or two) per group and cost for the choices, which
 * is checked against a limit before anything is allocated.
 * @module
 */
import { gapOf, type Instance, type Solution } from './instance.ts';
import { frontier } from './reduce.ts';

export interface DpOptions {
  /** Refuse instances whose choice table would exceed this many bytes (default 1 GiB). */
  maxBytes?: number;
}

/** The table size dp needs, in bytes. */
export function dpBytes(inst: Instance): number {
  const maxOpts = inst.groups.reduce((m, g) => Math.max(m, g.costs.length), 0);
  return inst.groups.length * (inst.budget + 1) * (maxOpts <= 255 ? 1 : 2) + 16 * (inst.budget + 1);
}

/**
 * Solves exactly over every cost. @throws {RangeError} when the table would exceed `maxBytes`
 * (instance already validated).
 */
export function solveDp(inst: Instance, opts: DpOptions = {}): Solution {
  const limit = opts.maxBytes ?? 2 ** 30;
  const need = dpBytes(inst);
  if (need > limit)
    throw new RangeError(`dp needs ${(need / 2 ** 20).toFixed(0)} MiB (${inst.groups.length} groups x ${inst.budget + 1} costs), over the limit of ${(limit / 2 ** 20).toFixed(0)} MiB; use method "fast"`);
  const B = inst.budget, n = inst.groups.length;
  const fronts = inst.groups.map(frontier);
  const wide = fronts.some((f) => f.idx.length > 255);
  const table = wide ? new Uint16Array(n * (B + 1)) : new Uint8Array(n * (B + 1));
  let prev = new Float64Array(B + 1); // f_0 = 0 for every c
  let cur = new Float64Array(B + 1);
  for (let i = 0; i < n; i++) {
    const f = fronts[i]!;
    const row = i * (B + 1);
    cur.fill(Infinity);
    for (let j = 0; j < f.idx.length; j++) {
      const cj = f.cost[j]!, vj = f.value[j]!;
      for (let c = cj; c <= B; c++) {
        const t = prev[c - cj]! + vj;
        if (t < cur[c]!) {
          cur[c] = t;
          table[row + c] = j;
        }
      }
    }
    [prev, cur] = [cur, prev];
  }
  const choice = new Array<number>(n);
  let c = B;
  for (let i = n - 1; i >= 0; i--) {
    const f = fronts[i]!;
    const j = table[i * (B + 1) + c]!;
    choice[i] = f.idx[j]!;
    c -= f.cost[j]!;
  }
  const value = prev[B]!;
  let cost = 0, check = 0;
  choice.forEach((j, i) => ((cost += inst.groups[i]!.costs[j]!), (check += inst.groups[i]!.values[j]!)));
  return { choice, cost, value: check, bound: value, gap: gapOf(check, value) };
}
