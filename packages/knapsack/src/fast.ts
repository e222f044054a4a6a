/**
 * The exact fast solver.
 *
 *   1. Per group: the Pareto set, then its lower convex hull (the LP relaxation's options).
 *   2. LP relaxation: from the cheapest option of every group, take hull increments in order of
 *      efficiency (value saved per unit of cost) until the budget is spent; found by a weighted
 *      quickselect in linear expected time. Its multiplier lambda gives the Lagrangian lower bound
 *      L = sum_i min_j (v_ij + lambda c_ij) - lambda B.
 *   3. An integer incumbent U: the LP solution without its split increment, then greedy upgrades.
 *   4. Reduced costs: any solution better than U uses only options with
 *      delta_ij = (v_ij + lambda c_ij) - min_j (v_ij + lambda c_ij) < U - L, since its value is at least L
 *      plus the sum of those reduced costs.
 *   5. Expanding core: the K groups that can deviate most cheaply from their lambda-optimal option are
 *      solved exactly (a dynamic program over Pareto-optimal (cost, value) states, pruned with the same
 *      Lagrangian bound) with all others at their lambda-optimal option; each round improves U, and the
 *      core doubles until every group outside it is fixed by step 4. Then U is optimal.
 * @module
 */
import { gapOf, type Instance, type Solution } from './instance.ts';
import { frontier, hull, type Frontier } from './reduce.ts';

export interface FastStats {
  lpBound: number;
  lambda: number;
  incumbent: number;
  coreGroups: number;
  coreOptions: number;
  states: number;
}

export interface FastOptions {
  /** Largest number of DP states kept in the core before giving up (default 20 million). */
  maxStates?: number;
}

export function solveFast(inst: Instance, opts: FastOptions = {}): Solution & { stats: FastStats } {
  const B = inst.budget, n = inst.groups.length;
  const fronts = inst.groups.map(frontier);

  // 1-2. Hull increments and the LP by weighted quickselect on efficiency.
  let C0 = 0, V0 = 0;
  for (const f of fronts) (C0 += f.cost[0]!, V0 += f.value[0]!);
  const hulls = fronts.map(hull);
  let M = 0;
  for (const h of hulls) M += h.length - 1;
  const eff = new Float64Array(M), dc = new Float64Array(M), dv = new Float64Array(M), grp = new Int32Array(M);
  for (let i = 0, m = 0; i < n; i++) {
    const f = fronts[i]!, h = hulls[i]!;
    for (let k = 0; k + 1 < h.length; k++, m++) {
      dc[m] = f.cost[h[k + 1]!]! - f.cost[h[k]!]!;
      dv[m] = f.value[h[k + 1]!]! - f.value[h[k]!]!;
      eff[m] = -dv[m]! / dc[m]!;
      grp[m] = i;
    }
  }
  const taken = new Uint8Array(M);
  let R = B - C0, lpValue = V0, lambda = 0, split = -1;
  {
    const idx = Int32Array.from({ length: M }, (_, m) => m);
    let lo = 0, hi = M; // candidates idx[lo..hi), all with efficiency below everything taken
    let seed = 12345;
    while (lo < hi) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const pivot = eff[idx[lo + (seed % (hi - lo))]!]!;
      // 3-way partition: [greater | equal | less], in efficiency order (descending).
      let a = lo, b = lo, c = hi;
      while (b < c) {
        const e = eff[idx[b]!]!;
        if (e > pivot) ([idx[a], idx[b]] = [idx[b]!, idx[a]!], a++, b++);
        else if (e < pivot) (c--, ([idx[b], idx[c]] = [idx[c]!, idx[b]!]));
        else b++;
      }
      let sGreater = 0;
      for (let t = lo; t < a; t++) sGreater += dc[idx[t]!]!;
      if (sGreater > R) {
        hi = a;
        continue;
      }
      for (let t = lo; t < a; t++) (taken[idx[t]!] = 1, (R -= dc[idx[t]!]!), (lpValue += dv[idx[t]!]!));
      let done = false;
      for (let t = a; t < b; t++) {
        const m = idx[t]!;
        if (dc[m]! <= R) (taken[m] = 1, (R -= dc[m]!), (lpValue += dv[m]!));
        else {
          split = m;
          done = true;
          break;
        }
      }
      if (done) break;
      lo = b;
    }
    if (split >= 0) {
      lambda = eff[split]!;
      lpValue += (R / dc[split]!) * dv[split]!;
    }
  }
  // The Lagrangian bound at lambda (equal to the LP bound up to rounding; the smaller one is kept).
  const rmin = new Float64Array(n);
  let lagr = -lambda * B;
  for (let i = 0; i < n; i++) {
    const f = fronts[i]!;
    let best = Infinity;
    for (let j = 0; j < f.idx.length; j++) best = Math.min(best, f.value[j]! + lambda * f.cost[j]!);
    rmin[i] = best;
    lagr += best;
  }
  const L = Math.min(lagr, lpValue);

  // 3. Incumbent: the taken hull prefix of every group, then greedy upgrades into the leftover budget.
  const pos = new Int32Array(n); // position in the frontier
  for (let i = 0, m = 0; i < n; i++) {
    const h = hulls[i]!;
    let k = 0;
    for (let s = 0; s + 1 < h.length; s++, m++) if (taken[m]) k = s + 1;
    pos[i] = h[k]!;
  }
  let cost = 0, U = 0;
  for (let i = 0; i < n; i++) (cost += fronts[i]!.cost[pos[i]!]!, U += fronts[i]!.value[pos[i]!]!);
  U = greedyFill(fronts, pos, B - cost, U);

  // 4. Reduced costs at lambda: delta_ij = v_ij + lambda c_ij - min_j (v_ij + lambda c_ij). The lambda-optimal
  // option of each group (cheapest on ties) and the cheapest way for it to deviate.
  const star = new Int32Array(n), dev = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const f = fronts[i]!;
    let js = -1, second = Infinity;
    for (let j = 0; j < f.idx.length; j++) {
      const d = f.value[j]! + lambda * f.cost[j]! - rmin[i]!;
      if (js < 0 && d <= 0) js = j;
      else second = Math.min(second, d);
    }
    star[i] = js < 0 ? 0 : js;
    dev[i] = second;
  }
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => dev[a]! - dev[b]!);

  // 5. Expanding core: the K groups that deviate most cheaply are solved exactly with every other group
  // at its lambda-optimal option; the result improves the incumbent and shrinks U - L, until no group
  // outside the core has an option within U - L of its best (then no better solution exists).
  const best = Int32Array.from(pos);
  let K = Math.min(n, 64), coreGroups = 0, coreOptions = 0, states = 0, tol = 0;
  for (;;) {
    tol = 1e-12 * Math.max(1e-300, Math.abs(U), Math.abs(L), lambda * B);
    const G = U - L + tol;
    const inCore = new Uint8Array(n);
    for (let t = 0; t < K; t++) inCore[order[t]!] = 1;
    let fixedCost = 0, fixedValue = 0;
    const core: number[] = [], keep: Int32Array[] = [];
    for (let i = 0; i < n; i++) {
      const f = fronts[i]!;
      if (!inCore[i]) {
        fixedCost += f.cost[star[i]!]!;
        fixedValue += f.value[star[i]!]!;
        continue;
      }
      const ks: number[] = [];
      for (let j = 0; j < f.idx.length; j++) if (f.value[j]! + lambda * f.cost[j]! - rmin[i]! <= G) ks.push(j);
      core.push(i);
      keep[i] = Int32Array.from(ks);
    }
    coreGroups = core.length;
    coreOptions = core.reduce((acc, i) => acc + keep[i]!.length, 0);
    const result = solveCore(fronts, core, keep, rmin, lambda, B - fixedCost, fixedValue, U - tol, opts.maxStates ?? 20_000_000);
    states += result?.states ?? 0;
    if (result) {
      U = result.value;
      for (let i = 0; i < n; i++) best[i] = inCore[i] ? best[i]! : star[i]!;
      core.forEach((i, t) => (best[i] = result.pick[t]!));
    }
    const Gnew = U - L + tol;
    if (K >= n || dev[order[K]!]! > Gnew) break; // every group outside the core is fixed by reduced costs
    K = Math.min(n, 2 * K);
  }
  const choice = Array.from(best, (p, i) => fronts[i]!.idx[p]!);
  let cCost = 0, cValue = 0;
  choice.forEach((j, i) => ((cCost += inst.groups[i]!.costs[j]!), (cValue += inst.groups[i]!.values[j]!)));
  // The last core enumerated every solution better than U - tol: the bound is U - tol, or better.
  const bound = Math.min(cValue, Math.max(L, U - tol));
  return {
    choice, cost: cCost, value: cValue, bound, gap: gapOf(cValue, bound),
    stats: { lpBound: L, lambda, incumbent: U, coreGroups, coreOptions, states },
  };
}

/**
 * Greedy upgrades into the leftover budget: repeatedly the upgrade (to a better, dearer option of a
 * group) with the best value saved per unit of cost that still fits. Updates pos; returns the new value.
 */
function greedyFill(fronts: Frontier[], pos: Int32Array, left: number, value: number): number {
  for (let pass = 0; pass < 4 && left > 0; pass++) {
    const cand: [number, number, number, number][] = []; // [efficiency, group, option, extra cost]
    for (let i = 0; i < fronts.length; i++) {
      const f = fronts[i]!, p = pos[i]!;
      for (let j = p + 1; j < f.idx.length && f.cost[j]! - f.cost[p]! <= left; j++) {
        const dc = f.cost[j]! - f.cost[p]!, gain = f.value[p]! - f.value[j]!;
        cand.push([dc === 0 ? Infinity : gain / dc, i, j, dc]);
      }
    }
    if (cand.length === 0) break;
    cand.sort((a, b) => b[0] - a[0]);
    let changed = false;
    for (const [, i, j, _dc] of cand) {
      const f = fronts[i]!, p = pos[i]!;
      if (j <= p) continue;
      const dc = f.cost[j]! - f.cost[p]!;
      if (dc > left) continue;
      left -= dc;
      value -= f.value[p]! - f.value[j]!;
      pos[i] = j;
      changed = true;
      void _dc;
    }
    if (!changed) break;
  }
  return value;
}

/**
 * Pareto DP over the core groups: states (cost, value) with cost <= budget, keeping a state only if no
 * cheaper state has a lower or equal value, and only if its Lagrangian bound can still beat `cutoff`.
 * Returns the best completion (value includes `base`) or null when none beats the cutoff.
 */
function solveCore(
  fronts: Frontier[], core: number[], keep: Int32Array[], rmin: Float64Array, lambda: number, budget: number, base: number,
  cutoff: number, maxStates: number,
): { value: number; pick: Int32Array; states: number } | null {
  if (budget < 0) return null;
  // Lagrangian lower bound of the groups after position t.
  const restLb = new Float64Array(core.length + 1);
  for (let t = core.length - 1; t >= 0; t--) restLb[t] = restLb[t + 1]! + rmin[core[t]!]!;
  let cost = Float64Array.of(0), value = Float64Array.of(base);
  const parents: Int32Array[] = [], options: Int32Array[] = [];
  let total = 0;
  for (let t = 0; t < core.length; t++) {
    const f = fronts[core[t]!]!, ks = keep[core[t]!]!;
    const cand: number[] = [];
    for (let s = 0; s < cost.length; s++) {
      for (const j of ks) {
        const c = cost[s]! + f.cost[j]!;
        if (c > budget) continue;
        const v = value[s]! + f.value[j]!;
        if (v + restLb[t + 1]! - lambda * (budget - c) >= cutoff) continue;
        cand.push(s, j);
      }
    }
    // Sort candidates by cost, then value, and keep the Pareto front.
    const m = cand.length / 2;
    const order = Int32Array.from({ length: m }, (_, q) => q);
    const cc = new Float64Array(m), vv = new Float64Array(m);
    for (let q = 0; q < m; q++) {
      const s = cand[2 * q]!, j = cand[2 * q + 1]!;
      cc[q] = cost[s]! + f.cost[j]!;
      vv[q] = value[s]! + f.value[j]!;
    }
    order.sort((a, b) => cc[a]! - cc[b]! || vv[a]! - vv[b]!);
    const nc: number[] = [], nv: number[] = [], np: number[] = [], no: number[] = [];
    let bestV = Infinity;
    for (const q of order) {
      if (vv[q]! < bestV) {
        bestV = vv[q]!;
        nc.push(cc[q]!);
        nv.push(vv[q]!);
        np.push(cand[2 * q]!);
        no.push(cand[2 * q + 1]!);
      }
    }
    total += nc.length;
    if (total > maxStates) throw new RangeError(`the core needs more than ${maxStates} DP states; the instance is unusually flat (many near-ties)`);
    if (nc.length === 0) return null;
    cost = Float64Array.from(nc);
    value = Float64Array.from(nv);
    parents.push(Int32Array.from(np));
    options.push(Int32Array.from(no));
  }
  let bestS = 0;
  for (let s = 1; s < value.length; s++) if (value[s]! < value[bestS]!) bestS = s;
  if (!(value[bestS]! < cutoff)) return null;
  const pick = new Int32Array(core.length);
  for (let t = core.length - 1, s = bestS; t >= 0; t--) {
    pick[t] = options[t]![s]!;
    s = parents[t]![s]!;
  }
  return { value: value[bestS]!, pick, states: total };
}

