/**
 * Channel distortion (paper §3; paper-digest §4): for ReLU layer l, channel c and candidate patch size b,
 * D(l, c, b) = mean over calibration images and logits of (f_{l,c,b}(x) - f(x))^2, where f_{l,c,b} is the
 * network with only channel c of layer l using patch size b.
 *
 * - `exact` follows the definition: per (l, c, b) one inference-mode pass over the images from layer l on
 *   (the clean activations before it are cached).
 * - `fast` is first order: f_{l,c,b}(x) - f(x) ~ J delta, with delta = patchRelu_b(a_c) - relu(a_c) and J the
 *   Jacobian of the logits with respect to the layer's output. J's rows come from backward passes (one per
 *   logit when there are at most `probes` classes; otherwise `probes` Rademacher vectors v, using
 *   E[(v.J delta)^2] = |J delta|^2). Then D ~ mean over images of |J delta|^2 / classes: all channels and
 *   sizes of all layers from a handful of backward passes per image.
 * @module
 */
import seedrandom from 'seedrandom';
import type { Graph } from '../graph.ts';
import type { Params } from '../ops/op.ts';
import { backward, forward, release, releaseGrads } from '../float/engine.ts';
import { candidatePatchSizes, kindOf, mergeEqualCost, patchCost, patchReluF32, type PatchSize, type PatchSpec } from '@si/patch-relu';
import { solve } from '@si/knapsack';

export type DistortionMethod = 'exact' | 'fast';

export interface LayerDistortion {
  name: string;
  channels: number;
  H: number;
  W: number;
  /** Candidate sizes (identity included, zero excluded as in the paper). */
  sizes: PatchSize[];
  /** values[c][k]: distortion of channel c with sizes[k]; null where not measured (a channel subset). */
  values: (number[] | null)[];
}

export interface DistortionTable {
  format: 'si-distortion';
  version: 1;
  model: string;
  method: DistortionMethod;
  images: number;
  probes?: number;
  seconds: number;
  layers: LayerDistortion[];
}

export interface DistortionOptions {
  method: DistortionMethod;
  /** Calibration images [M, ...inputShape]. */
  x: Float32Array;
  M: number;
  /** Only these layers (default: all ReLU layers). */
  layers?: readonly string[];
  /** Only the first n channels of each layer (default: all). */
  channels?: number;
  /** Backward passes per image for `fast` (default: the number of classes, i.e. the exact Jacobian). */
  probes?: number;
  seed?: string;
  onProgress?: (done: number, total: number, seconds: number) => void;
}

export function candidateSizes(H: number, W: number): PatchSize[] {
  return candidatePatchSizes(H, W).filter((s) => kindOf(s) !== 'zero');
}

export function measureDistortion(graph: Graph, params: Params, o: DistortionOptions): DistortionTable {
  const t0 = performance.now();
  const all = graph.reluLayers();
  const wanted = o.layers ? all.filter((l) => o.layers!.includes(l.name)) : all;
  if (o.layers) for (const n of o.layers) if (!all.some((l) => l.name === n)) throw new Error(`no ReLU layer "${n}" in ${graph.name} (layers: ${all.map((l) => l.name).join(', ')})`);
  const layers: LayerDistortion[] = wanted.map((l) => ({
    name: l.name, channels: l.channels, H: l.H, W: l.W, sizes: candidateSizes(l.H, l.W),
    values: Array.from({ length: l.channels }, () => null),
  }));
  const nCh = (l: LayerDistortion) => Math.min(l.channels, o.channels ?? l.channels);
  const total = layers.reduce((s, l) => s + nCh(l) * (o.method === 'exact' ? l.sizes.length : 1), 0);
  let done = 0;
  const tick = (k = 1) => o.onProgress?.((done += k), total, (performance.now() - t0) / 1000);
  if (o.method === 'exact') exact(graph, params, o, layers, nCh, tick);
  else fast(graph, params, o, layers, nCh, tick);
  return {
    format: 'si-distortion', version: 1, model: graph.name, method: o.method, images: o.M,
    ...(o.method === 'fast' ? { probes: probesOf(graph, o) } : {}),
    seconds: (performance.now() - t0) / 1000, layers,
  };
}

const probesOf = (graph: Graph, o: DistortionOptions) => Math.min(o.probes ?? graph.outputShape[0]!, graph.outputShape[0]!);

function meanSquaredDiff(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return s / a.length;
}

function exact(graph: Graph, params: Params, o: DistortionOptions, layers: LayerDistortion[], nCh: (l: LayerDistortion) => number, tick: () => void): void {
  const names = graph.nodes.map((n) => n.name);
  const clean = forward(graph, params, o.x, o.M, { capture: names });
  const dummy = new Float32Array(o.x.length);
  for (const L of layers) {
    const node = graph.reluLayers().find((l) => l.name === L.name)!.node;
    const at = names.indexOf(node);
    const given = new Map([...clean.captured].filter(([k]) => names.indexOf(k) < at));
    const sizes: PatchSize[] = Array.from({ length: L.channels }, () => [1, 1] as const);
    for (let c = 0; c < nCh(L); c++) {
      L.values[c] = L.sizes.map((s) => {
        tick();
        if (kindOf(s) === 'relu') return 0;
        sizes[c] = s;
        const { out, trace } = forward(graph, params, dummy, o.M, { spec: { [L.name]: sizes }, given });
        const d = meanSquaredDiff(out, clean.out);
        release(trace, [out]);
        sizes[c] = [1, 1];
        return d;
      });
    }
  }
}

function fast(graph: Graph, params: Params, o: DistortionOptions, layers: LayerDistortion[], nCh: (l: LayerDistortion) => number, tick: (k?: number) => void): void {
  const relu = new Map(graph.reluLayers().map((l) => [l.name, l]));
  const outs = layers.map((L) => relu.get(L.name)!.node);
  const ins = outs.map((n) => graph.node(n).inputs[0]!);
  const classes = graph.outputShape[0]!, K = probesOf(graph, o);
  const rnd = seedrandom(`distortion/${o.seed ?? 0}`);
  const { out, trace, captured } = forward(graph, params, o.x, o.M, { keep: true, capture: ins });
  // jv[k][layer]: the gradient of probe k's logit combination with respect to the layer's output.
  const jv: Float32Array[][] = [];
  for (let k = 0; k < K; k++) {
    const v = new Float32Array(out.length);
    for (let n = 0; n < o.M; n++) {
      for (let j = 0; j < classes; j++) v[n * classes + j] = K === classes ? (j === k ? 1 : 0) : rnd() < 0.5 ? -1 : 1;
    }
    const b = backward(trace, params, v, false, outs);
    jv.push(outs.map((n) => b.captured.get(n)!));
    releaseGrads(b.grads);
  }
  release(trace);
  layers.forEach((L, li) => {
    const a = captured.get(ins[li]!)!, HW = L.H * L.W;
    const ch = new Float32Array(o.M * HW), base = new Float32Array(o.M * HW);
    for (let c = 0; c < nCh(L); c++) {
      for (let n = 0; n < o.M; n++) ch.set(a.subarray((n * L.channels + c) * HW, (n * L.channels + c + 1) * HW), n * HW);
      for (let i = 0; i < ch.length; i++) base[i] = ch[i]! > 0 ? ch[i]! : 0;
      L.values[c] = L.sizes.map((s) => {
        if (kindOf(s) === 'relu') return 0;
        const y = patchReluF32(ch, [o.M, 1, L.H, L.W], [s]).y;
        let sum = 0;
        for (let n = 0; n < o.M; n++) {
          for (let k = 0; k < K; k++) {
            const g = jv[k]![li]!;
            let dot = 0;
            for (let p = 0; p < HW; p++) {
              const d = y[n * HW + p]! - base[n * HW + p]!;
              if (d !== 0) dot += g[(n * L.channels + c) * HW + p]! * d;
            }
            sum += dot * dot;
          }
        }
        // Unit probes: sum over k is |J delta|^2 exactly; Rademacher: sum / K estimates it.
        return sum / o.M / (K === classes ? classes : K * classes);
      });
      tick();
    }
  });
}

/** Spearman rank correlation (average ranks for ties). */
export function spearman(a: readonly number[], b: readonly number[]): number {
  const ra = ranks(a), rb = ranks(b), n = a.length;
  const ma = ra.reduce((s, v) => s + v, 0) / n, mb = rb.reduce((s, v) => s + v, 0) / n;
  let num = 0, da = 0, db = 0;
  for (let i = 0; i < n; i++) {
    num += (ra[i]! - ma) * (rb[i]! - mb);
    da += (ra[i]! - ma) ** 2;
    db += (rb[i]! - mb) ** 2;
  }
  return da && db ? num / Math.sqrt(da * db) : 0;
}

function ranks(v: readonly number[]): number[] {
  const idx = v.map((_, i) => i).sort((i, j) => v[i]! - v[j]!);
  const r = new Array<number>(v.length);
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j + 1 < idx.length && v[idx[j + 1]!] === v[idx[i]!]) j++;
    for (let k = i; k <= j; k++) r[idx[k]!] = (i + j) / 2;
    i = j + 1;
  }
  return r;
}

/** Per-layer Spearman correlation of two tables over the (channel, size) entries both measured (plain ReLU excluded). */
export function compareTables(a: DistortionTable, b: DistortionTable): { layer: string; entries: number; rho: number }[] {
  return a.layers.flatMap((La) => {
    const Lb = b.layers.find((l) => l.name === La.name);
    if (!Lb) return [];
    const xa: number[] = [], xb: number[] = [];
    La.values.forEach((row, c) => {
      const other = Lb.values[c];
      if (!row || !other) return;
      La.sizes.forEach((s, k) => {
        if (kindOf(s) === 'relu') return;
        xa.push(row[k]!);
        xb.push(other[k]!);
      });
    });
    return xa.length ? [{ layer: La.name, entries: xa.length, rho: spearman(xa, xb) }] : [];
  });
}

/** Reads a table written by `si distortion`. */
export function parseTable(text: string, where = 'distortion table'): DistortionTable {
  let t: DistortionTable;
  try {
    t = JSON.parse(text);
  } catch (e) {
    throw new Error(`${where}: not JSON (${(e as Error).message})`);
  }
  if (t?.format !== 'si-distortion' || t.version !== 1 || !Array.isArray(t.layers)) throw new Error(`${where}: not an si-distortion version 1 table`);
  return t;
}

/**
 * The knapsack (paper §3.2) on a distortion table: one group per channel, options its candidate sizes with
 * cost ceil(H/ph) ceil(W/pw) DReLUs and value the distortion; equal-cost options merged (lowest distortion
 * kept); total cost at most `budget` DReLUs.
 * @throws when a channel of the network is missing from the table or the budget is below zero
 */
export function specFromTable(graph: Graph, table: DistortionTable, budget: number): { spec: PatchSpec; drelus: number; distortion: number; gap: number; perLayer: { name: string; relus: number; drelus: number }[] } {
  if (table.model !== graph.name) throw new Error(`the table is for ${table.model}, not ${graph.name}`);
  const groups: { costs: number[]; values: number[]; sizes: PatchSize[] }[] = [];
  const layers = graph.reluLayers();
  for (const l of layers) {
    const L = table.layers.find((t) => t.name === l.name);
    if (!L) throw new Error(`the distortion table has no layer "${l.name}" (measure all layers for a spec)`);
    L.values.forEach((row, c) => {
      if (!row) throw new Error(`the distortion table has no values for ${l.name} channel ${c} (it was measured on a channel subset)`);
      const merged = mergeEqualCost(L.sizes.map((size, k) => ({ size, cost: patchCost(size, l.H, l.W, l.clipped), value: row[k]! })));
      groups.push({ costs: merged.map((o) => o.cost), values: merged.map((o) => o.value), sizes: merged.map((o) => o.size) });
    });
  }
  const sol = solve({ budget, groups });
  const spec: PatchSpec = { format: 'si-patch-spec', version: 1, model: graph.name, layers: {} };
  const perLayer: { name: string; relus: number; drelus: number }[] = [];
  let g = 0;
  for (const l of layers) {
    let d = 0;
    spec.layers[l.name] = Array.from({ length: l.channels }, () => {
      const k = sol.choice[g]!;
      d += groups[g]!.costs[k]!;
      return groups[g++]!.sizes[k]!;
    });
    perLayer.push({ name: l.name, relus: l.relus, drelus: d });
  }
  return { spec, drelus: sol.cost, distortion: sol.value, gap: sol.gap, perLayer };
}
