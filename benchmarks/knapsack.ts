// pnpm bench:knapsack [-- --quick]
// Generates (deterministically) knapsack instances at the paper's scale — one group per channel of every
// ReLU layer, one option per distinct cost of the candidate patch sizes, synthetic distortions — and
// solves them exactly: ResNet50 (22,720 groups, 6% budget 576,522), ResNet18-CIFAR (3,904 groups, budget
// 33,423, also with the dense DP for comparison) and, without --quick, DeepLabV3-R50 on VOC (25,856
// groups, budget 7,644,149).
import { syntheticDistortions } from '@si/cli';
import { evaluate, solveDp, solveFast, type Instance } from '@si/knapsack';
import { emit, flags, round } from './_harness.ts';
import { deeplabR50VocRelus, resnet18CifarRelus, resnet50Relus, type ReluShape } from './_layers.ts';

const { quick, seed } = flags();

/** Synthetic distortions (see @si/cli syntheticDistortions), one group per channel. */
function instance(name: string, layers: ReluShape[], budget: number): Instance {
  return { budget, groups: syntheticDistortions(layers, `${seed}/${name}`) };
}

function run(name: string, layers: ReluShape[], fraction: number, withDp: boolean): Record<string, number | boolean> {
  const relus = layers.reduce((s, l) => s + l.channels * l.H * l.W, 0);
  const budget = Math.floor(fraction * relus);
  const inst = instance(name, layers, budget);
  const options = inst.groups.reduce((s, g) => s + g.costs.length, 0);
  const t0 = performance.now();
  const fast = solveFast(inst);
  const ms = performance.now() - t0;
  const check = evaluate(inst, fast.choice);
  if (check.cost > budget || Math.abs(check.value - fast.value) > 1e-9 * fast.value) throw new Error(`${name}: solution does not check`);
  const row: Record<string, number | boolean> = {
    groups: inst.groups.length, relus, budget, options_per_group: round(options / inst.groups.length, 1), fast_ms: round(ms, 1),
    value: fast.value, cost: fast.cost, bound: fast.bound, gap: fast.gap, lp_bound: fast.stats.lpBound,
    core_groups: fast.stats.coreGroups, core_options: fast.stats.coreOptions, dp_states: fast.stats.states,
    max_rss_mb: round(process.resourceUsage().maxRSS / 1024, 0),
  };
  if (withDp) {
    const t1 = performance.now();
    const dp = solveDp(inst);
    row.dp_ms = round(performance.now() - t1, 0);
    row.dp_value = dp.value;
    row.equal = Math.abs(dp.value - fast.value) <= 1e-9 * Math.max(1, dp.value);
  }
  emit({ bench: 'knapsack', instance: name, ...row });
  return row;
}

const r50 = run('resnet50', resnet50Relus(), 0.06, false);
const r18 = run('resnet18-cifar', resnet18CifarRelus(), 0.06, true);
const voc = quick ? null : run('deeplabv3-r50-voc', deeplabR50VocRelus(), 0.06, false);
emit({
  bench: 'knapsack',
  quick,
  r50_ms: r50.fast_ms,
  r50_gap: r50.gap,
  r50_groups: r50.groups,
  r50_budget: r50.budget,
  r18_ms: r18.fast_ms,
  r18_dp_ms: r18.dp_ms,
  r18_equal: r18.equal,
  ...(voc ? { voc_ms: voc.fast_ms, voc_gap: voc.gap, voc_groups: voc.groups, voc_budget: voc.budget } : {}),
  max_rss_mb: round(process.resourceUsage().maxRSS / 1024, 0),
});
