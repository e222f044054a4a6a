// pnpm bench:patch [-- --quick]
// Bytes per image of ResNet18-CIFAR's 17 ReLU layers (557,056 ReLUs) run as secure patch ReLUs, measured
// from the ledgers in one run: every channel a plain ReLU ([1,1]) against 6% specs, in small-ring k=16
// mode (and full 64-bit for reference), beside the research code's cost for the same specs. The 6% specs:
// the exact knapsack on synthetic distortions calibrated to the paper's identity fraction
// (`paperlike:0.06`, 60% of ResNet18-CIFAR's activations in identity channels: the summary's ratio), the
// uncalibrated one (`knapsack:0.06`, 13%), and a fixed rule (4x4 patches, every 16th channel identity).
import { encodeFixed } from '@si/ring';
import { localParties, measuredCost, shareInput, totalBytes } from '@si/sharing';
import { patchRelu, patchReluCost, patchReluDrelus, type PatchSize } from '@si/patch-relu';
import type { DreluMode } from '@si/relu-protocols';
import seedrandom from 'seedrandom';
import { emit, flags, round } from './_harness.ts';
import { graphOf, loadSpec } from '@si/cli';

const { quick, seed } = flags();
const graph = graphOf('resnet18-cifar');
const layers = graph.reluLayers();
const total = layers.reduce((s, l) => s + l.channels * l.H * l.W, 0);
const fromSpec = (source: string) => {
  const spec = loadSpec(graph, source)!;
  return (layer: string, c: number): PatchSize => spec.layers[layer]![c]!;
};
const SPECS: [string, (layer: string, c: number) => PatchSize][] = [
  ['full', () => [1, 1]],
  ['6pct', fromSpec('paperlike:0.06')],
  ['6pct_synthetic', fromSpec('knapsack:0.06')],
  // A fixed rule: 4x4 patches (1/16 of the ReLUs), every 16th channel identity.
  ['6pct_4x4', (_layer, c) => (c % 16 === 15 ? [0, 1] : [4, 4])],
];
const MODES: [string, DreluMode][] = quick ? [['small16', { mode: 'small-ring', dropLowBits: 4, keepBits: 16 }]] : [
  ['small16', { mode: 'small-ring', dropLowBits: 4, keepBits: 16 }], ['full64', { mode: 'full' }],
];

/** The research code's bytes for a layer: per non-identity channel n_b (128 + 6k) + 24 HW (paper-digest §2.12). */
function researchBytes(sizes: PatchSize[], H: number, W: number, k: number): number {
  let b = 0;
  for (const [ph, pw] of sizes) {
    if (ph === 0 || pw === 0) continue;
    b += Math.ceil(H / ph) * Math.ceil(W / pw) * (128 + 6 * k) + 24 * H * W;
  }
  return b;
}

const parties = await localParties();
const results: Record<string, { bytes: number; drelus: number; research: number; seconds: number }> = {};
for (const [mname, mode] of MODES) {
  for (const [sname, rule] of SPECS) {
    const key = `${sname}/${mname}`;
    let bytes = 0, drelus = 0, research = 0, seconds = 0;
    for (const L of layers) {
      const sizes = Array.from({ length: L.channels }, (_, c) => rule(L.name, c));
      const shape = [1, L.channels, L.H, L.W];
      const r = seedrandom(`${seed}/${L.name}`);
      const x = encodeFixed(Float64Array.from({ length: L.channels * L.H * L.W }, () => (r() - 0.5) * 6), 12, shape);
      const xs = parties.map((p) => shareInput(p, 0, shape, p.id === 0 ? x : undefined));
      const label = `${key}/${L.name}`.replaceAll('/', '.');
      const t0 = performance.now();
      await Promise.all(parties.map((p) => p.scope(label, (q) => patchRelu(q, xs[p.id]!, sizes, mode))));
      seconds += (performance.now() - t0) / 1000;
      const measured = totalBytes(measuredCost(parties, label));
      if (measured !== totalBytes(patchReluCost(shape, sizes, mode))) throw new Error(`${label}: measured bytes differ from the declared cost`);
      bytes += measured;
      drelus += patchReluDrelus(shape, sizes);
      research += researchBytes(sizes, L.H, L.W, mode.mode === 'full' ? 64 : 16);
    }
    results[key] = { bytes, drelus, research, seconds };
    emit({ bench: 'patch', spec: sname, mode: mname, relus: total, drelus, drelu_fraction: round(drelus / total, 4), bytes_per_image: bytes, research_code_bytes: research, vs_research: round(research / bytes, 2), seconds_in_process: round(seconds, 2) });
  }
}
for (const p of parties) p.close();
const full = results['full/small16']!, six6 = results['6pct/small16']!, synth = results['6pct_synthetic/small16']!, fixed = results['6pct_4x4/small16']!;
emit({
  bench: 'patch',
  quick,
  mode: 'small-ring k=16 d=4',
  relus: total,
  drelus_6pct: six6.drelus,
  bytes_full: full.bytes,
  bytes_6pct: six6.bytes,
  ratio: round(full.bytes / six6.bytes, 2),
  drelus_6pct_synthetic: synth.drelus,
  bytes_6pct_synthetic: synth.bytes,
  ratio_synthetic: round(full.bytes / synth.bytes, 2),
  bytes_6pct_4x4: fixed.bytes,
  ratio_4x4: round(full.bytes / fixed.bytes, 2),
  research_bytes_full: full.research,
  research_bytes_6pct: six6.research,
});
