import { test } from 'uvu';
import * as assert from 'uvu/assert';
import seedrandom from 'seedrandom';
import { evaluate, InstanceError, parseInstance, solve, solveDp, solveFast, stringifyInstance, validateInstance, type Instance } from '../src/index.ts';

function random(seed: string): Instance {
  const r = seedrandom(seed);
  const n = 1 + Math.floor(r() * 8);
  const groups = Array.from({ length: n }, () => {
    const k = r() < 0.15 ? 1 : 1 + Math.floor(r() * 6);
    const costs = Array.from({ length: k }, () => Math.floor(r() * (r() < 0.5 ? 4 : 12)));
    // Ties on purpose: values from a small set half of the time.
    const values = costs.map(() => (r() < 0.5 ? Math.floor(r() * 5) : r() * 10));
    return { costs, values };
  });
  const minTotal = groups.reduce((s, g) => s + Math.min(...g.costs), 0);
  const maxTotal = groups.reduce((s, g) => s + Math.max(...g.costs), 0);
  const kind = r();
  const budget = kind < 0.1 ? minTotal : kind < 0.2 ? maxTotal + 5 : minTotal + Math.floor(r() * (maxTotal - minTotal + 1));
  return { budget, groups };
}

/** Exhaustive optimum for tiny instances. */
function brute(inst: Instance): number {
  let best = Infinity;
  const rec = (i: number, cost: number, value: number): void => {
    if (cost > inst.budget) return;
    if (i === inst.groups.length) return void (best = Math.min(best, value));
    const g = inst.groups[i]!;
    g.costs.forEach((c, j) => rec(i + 1, cost + c, value + g.values[j]!));
  };
  rec(0, 0, 0);
  return best;
}

test('fast equals dp equals brute force on thousands of random small instances (ties, tight and loose budgets)', () => {
  for (let t = 0; t < 3000; t++) {
    const inst = random(`r${t}`);
    const dp = solveDp(inst), fast = solveFast(inst);
    const want = brute(inst);
    const tol = 1e-9 * Math.max(1, Math.abs(want));
    assert.ok(Math.abs(dp.value - want) <= tol, `dp ${dp.value} vs ${want} (instance ${t})`);
    assert.ok(Math.abs(fast.value - want) <= tol, `fast ${fast.value} vs ${want} (instance ${t}): ${stringifyInstance(inst)}`);
    for (const s of [dp, fast]) {
      const e = evaluate(inst, s.choice);
      assert.ok(e.cost <= inst.budget, `cost ${e.cost} over budget ${inst.budget}`);
      assert.is(e.cost, s.cost);
      assert.ok(Math.abs(e.value - s.value) <= tol);
      assert.ok(s.bound <= s.value + tol && s.gap <= 1e-9, `bound ${s.bound} gap ${s.gap}`);
    }
  }
});

test('larger random instances: fast equals dp', () => {
  for (let t = 0; t < 40; t++) {
    const r = seedrandom(`big${t}`);
    const groups = Array.from({ length: 60 }, () => {
      const costs = [0, ...Array.from({ length: 10 }, () => 1 + Math.floor(r() * 30))];
      const values = costs.map((c) => Math.max(0, 10 * Math.exp(-c / 8) + (r() - 0.5) * 2));
      return { costs, values };
    });
    const inst = { budget: Math.floor(r() * 600), groups };
    const dp = solve(inst, { method: 'dp' }), fast = solve(inst);
    assert.ok(Math.abs(dp.value - fast.value) <= 1e-9 * Math.max(1, dp.value), `${t}: dp ${dp.value} fast ${fast.value}`);
  }
});

test('edge budgets: zero, exactly the cheapest, above the total; single-option groups', () => {
  const inst = { budget: 0, groups: [{ costs: [0, 3], values: [5, 1] }, { costs: [0], values: [2] }] };
  assert.equal(solve(inst).choice, [0, 0]);
  assert.equal(solve({ ...inst, budget: 100 }).choice, [1, 0]);
  assert.is(solve({ ...inst, budget: 100 }).value, 3);
  assert.equal(solve({ budget: 4, groups: [{ costs: [4], values: [1] }] }).choice, [0]);
});

test('invalid instances are refused, naming the group and option', () => {
  const g = { costs: [0, 1], values: [1, 0] };
  const cases: [unknown, RegExp][] = [
    [{ budget: 1, groups: [g, { costs: [], values: [] }] }, /group 1 has no options/],
    [{ budget: 1, groups: [{ costs: [0, -1], values: [1, 0] }] }, /group 0 option 1: cost -1 is negative/],
    [{ budget: 1, groups: [{ costs: [0, 1.5], values: [1, 0] }] }, /group 0 option 1: cost 1.5 is not an integer/],
    [{ budget: 1, groups: [{ costs: [0, Infinity], values: [1, 0] }] }, /group 0 option 1: cost null is not a finite number|cost Infinity/],
    [{ budget: 1, groups: [g, { costs: [0, 1], values: [1, NaN] }] }, /group 1 option 1: value null is not a finite number|value NaN/],
    [{ budget: 1, groups: [{ costs: [0, 1, 2], values: [1, 0] }] }, /group 0: 3 costs but 2 values/],
    [{ budget: 2, groups: [{ costs: [3, 4], values: [1, 0] }] }, /budget 2 is below the cheapest selection: one option per group needs at least 3/],
    [{ budget: -1, groups: [] }, /"budget" must be a non-negative integer/],
    [{ budget: 1.5, groups: [] }, /"budget" must be a non-negative integer/],
  ];
  for (const [inst, re] of cases) assert.throws(() => validateInstance(inst), (e: Error) => e instanceof InstanceError && re.test(e.message), String(re));
  assert.throws(() => parseInstance('{"format":"si-mckp","version":2,"budget":0,"groups":[]}'), /unsupported version 2/);
  assert.throws(() => parseInstance('nope'), /not valid JSON/);
  assert.throws(() => solve({ budget: 10 ** 7, groups: Array(200).fill(g) }, { method: 'dp', maxBytes: 2 ** 20 }), /dp needs \d+ MiB .* over the limit of 1 MiB; use method "fast"/);
  const text = stringifyInstance({ budget: 1, groups: [g] });
  assert.equal(parseInstance(text), { budget: 1, groups: [g] });
});

test.run();
