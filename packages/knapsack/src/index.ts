/**
 * @si/knapsack: exact multiple-choice knapsack solvers — a dense dynamic program (the reference) and a
 * fast exact solver (LP/Lagrangian bound, reduced-cost fixing, DP over the remaining core).
 * @module
 */
import { validateInstance, type Instance, type Solution } from './instance.ts';
import { solveDp, type DpOptions } from './dp.ts';
import { solveFast, type FastOptions } from './fast.ts';

export { validateInstance, parseInstance, stringifyInstance, evaluate, InstanceError, type Instance, type Group, type Solution } from './instance.ts';
export { frontier, hull } from './reduce.ts';
export { solveDp, dpBytes, type DpOptions } from './dp.ts';
export { solveFast, type FastOptions, type FastStats } from './fast.ts';

export type Method = 'fast' | 'dp';

/**
 * Solves an instance exactly: minimal total value with total cost <= budget, one option per group.
 * @param opts.method - 'fast' (default) or 'dp' (the dense reference; refuses large tables)
 * @throws {InstanceError} for invalid instances (naming the group and option) or an unaffordable budget
 * @example solve({ budget: 3, groups: [{ costs: [0, 2], values: [5, 1] }, { costs: [0, 1], values: [4, 0] }] }) // choice [1, 1], value 1
 */
export function solve(inst: Instance, opts: { method?: Method } & DpOptions & FastOptions = {}): Solution {
  const valid = validateInstance(inst);
  const method = opts.method ?? 'fast';
  if (method === 'dp') return solveDp(valid, opts);
  if (method !== 'fast') throw new RangeError(`"method" expected 'fast' or 'dp', got ${JSON.stringify(method)}`);
  const { stats: _stats, ...sol } = solveFast(valid, opts);
  return sol;
}
