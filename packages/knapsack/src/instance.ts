/**
 * Multiple-choice knapsack instances: groups (e.g. channels), each with options (cost: a non-negative
 * integer, value: a finite number such as a distortion); choose one option per group minimising the
 * total value with total cost <= budget.
 *
 * File format: {"format":"si-mckp","version":1,"budget":B,"groups":[{"costs":[...],"values":[...]},...]}
 * @module
 */

export interface Group {
  costs: number[];
  values: number[];
}

export interface Instance {
  budget: number;
  groups: Group[];
}

export interface Solution {
  /** Option index per group. */
  choice: number[];
  cost: number;
  value: number;
  /** A proven lower bound on the optimal value. */
  bound: number;
  /** (value - bound) / max(|value|, 1e-12). */
  gap: number;
}

/** An error in an instance, naming the group and option. */
export class InstanceError extends Error {
  override readonly name = 'InstanceError';
}

/**
 * Checks an instance: integer budget >= 0, non-empty groups, matching lengths, costs non-negative
 * integers, values finite, and a budget that affords the cheapest option of every group.
 * @throws {InstanceError} naming the group and option
 */
export function validateInstance(inst: unknown): Instance {
  if (inst === null || typeof inst !== 'object') throw new InstanceError('instance: expected an object');
  const o = inst as Record<string, unknown>;
  const budget = o.budget;
  if (typeof budget !== 'number' || !Number.isSafeInteger(budget) || budget < 0)
    throw new InstanceError(`instance: "budget" must be a non-negative integer, got ${JSON.stringify(budget)}`);
  if (!Array.isArray(o.groups)) throw new InstanceError('instance: "groups" must be an array');
  let cheapest = 0;
  const groups = o.groups.map((g: unknown, i): Group => {
    if (g === null || typeof g !== 'object') throw new InstanceError(`group ${i}: expected {"costs": [...], "values": [...]}`);
    const { costs, values } = g as { costs: unknown; values: unknown };
    if (!Array.isArray(costs) || !Array.isArray(values)) throw new InstanceError(`group ${i}: "costs" and "values" must be arrays`);
    if (costs.length === 0) throw new InstanceError(`group ${i} has no options`);
    if (costs.length !== values.length) throw new InstanceError(`group ${i}: ${costs.length} costs but ${values.length} values`);
    let min = Infinity;
    costs.forEach((c: unknown, j) => {
      if (typeof c !== 'number' || !Number.isFinite(c)) throw new InstanceError(`group ${i} option ${j}: cost ${JSON.stringify(c)} is not a finite number`);
      if (c < 0) throw new InstanceError(`group ${i} option ${j}: cost ${c} is negative`);
      if (!Number.isSafeInteger(c)) throw new InstanceError(`group ${i} option ${j}: cost ${c} is not an integer`);
      if (c < min) min = c;
    });
    values.forEach((v: unknown, j) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new InstanceError(`group ${i} option ${j}: value ${JSON.stringify(v)} is not a finite number`);
    });
    cheapest += min;
    return { costs: costs as number[], values: values as number[] };
  });
  if (cheapest > budget)
    throw new InstanceError(`budget ${budget} is below the cheapest selection: one option per group needs at least ${cheapest}`);
  return { budget, groups };
}

/** Parses and validates an instance file. @throws {InstanceError} */
export function parseInstance(text: string): Instance {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new InstanceError(`instance is not valid JSON: ${(e as Error).message}`);
  }
  const o = v as Record<string, unknown>;
  if (o === null || typeof o !== 'object' || o.format !== 'si-mckp') throw new InstanceError('instance: "format" must be "si-mckp"');
  if (o.version !== 1) throw new InstanceError(`instance: unsupported version ${JSON.stringify(o.version)} (this reader knows 1)`);
  return validateInstance(v);
}

export function stringifyInstance(inst: Instance): string {
  return JSON.stringify({ format: 'si-mckp', version: 1, budget: inst.budget, groups: inst.groups });
}

/** Cost and value of a choice (one option index per group). */
export function evaluate(inst: Instance, choice: readonly number[]): { cost: number; value: number } {
  if (choice.length !== inst.groups.length) throw new RangeError(`choice has ${choice.length} entries for ${inst.groups.length} groups`);
  let cost = 0, value = 0;
  choice.forEach((j, i) => {
    const g = inst.groups[i]!;
    if (!(j >= 0 && j < g.costs.length)) throw new RangeError(`choice for group ${i} is ${j}, not an option index`);
    cost += g.costs[j]!;
    value += g.values[j]!;
  });
  return { cost, value };
}

/** Relative gap (value - bound) / max(|value|, 1e-12). */
export function gapOf(value: number, bound: number): number {
  return Math.max(0, (value - bound) / Math.max(Math.abs(value), 1e-12));
}
