// pnpm bench:e2e [-- --quick]
// Secure inference end to end: client, server and helper as three local processes over TLS 1.3 with
// mutual authentication (si infer's runLocal), on seeded synthetic weights whose batch-norm statistics come
// from the network's own activations. ResNet18-CIFAR (32x32x3, 100 classes) and, without --quick,
// ResNet50 (224x224x3, 1000 classes); each with all ReLUs and with a 6% DReLU spec from the exact
// knapsack on synthetic distortions; each in small-ring k=16 and full 64-bit comparison mode.
// Bytes are per image summed over the parties (preprocessing + online; setup once per model is printed
// apart); seconds per image are preprocessing + online (and online alone) at the batch size shown, over
// the batches after the first (warm-up: WebAssembly tier-up, first-touch memory). The ratios divide the
// paper's number for the same setting (benchmarks/paper.json) by ours.
import { readFileSync } from 'node:fs';
import { runLocal } from '@si/cli';
import { emit, flags, round } from './_harness.ts';

const { quick } = flags();
const paper = JSON.parse(readFileSync(new URL('./paper.json', import.meta.url), 'utf8'));

interface Row {
  model: string;
  key: 'cifar100_resnet18' | 'imagenet_resnet50';
  spec: string;
  mode: 'small16' | 'full';
  images: number;
  batch: number;
}

const rows: Row[] = [];
for (const [model, key, full, batch] of [['resnet18-cifar', 'cifar100_resnet18', 24, 8], ['resnet50', 'imagenet_resnet50', 3, 1]] as const) {
  if (quick && model === 'resnet50') continue;
  // --quick: two batches (the first is warm-up, the second is measured).
  const images = quick ? 2 * batch : full;
  for (const spec of ['knapsack:0.06', 'relu']) for (const mode of ['small16', 'full'] as const) rows.push({ model, key, spec, mode, images, batch });
}

function paperFor(r: Row): { bytes: number; seconds: number; setting: string } {
  const p = paper[r.key];
  if (r.spec === 'relu') return { ...p.baseline_maxpool_64bit, setting: 'baseline (max-pool net, 64-bit DReLU)' };
  const which = r.mode === 'full' ? 'exact_64bit' : 'approx_16bit';
  return { bytes: p[which].bytes[1], seconds: p[which].seconds[1], setting: `6% ${which}` };
}

const out: Record<string, Record<string, number>> = {};
for (const r of rows) {
  const rep = await runLocal({ model: r.model, weights: 'synthetic:bench', spec: r.spec, mode: r.mode, batch: r.batch, input: { kind: 'random', count: r.images, seed: 'bench' }, timeoutSeconds: 600 });
  const n = rep.images;
  const bytes = (rep.online.bytes + rep.preprocess.bytes) / n;
  const steady = (v: number[]) => v.slice(1).reduce((a, b) => a + b, 0) / ((rep.batches - 1) * r.batch);
  const online = steady(rep.batchSeconds.online), pre = steady(rep.batchSeconds.preprocess);
  const seconds = online + pre;
  const p = paperFor(r);
  const row = {
    bytes_per_image: Math.round(bytes), online_bytes_per_image: Math.round(rep.online.bytes / n), preprocess_bytes_per_image: Math.round(rep.preprocess.bytes / n),
    s_per_image: round(seconds, 3), online_s_per_image: round(online, 3), preprocess_s_per_image: round(pre, 3),
    first_batch_s: round(rep.batchSeconds.online[0]! + rep.batchSeconds.preprocess[0]!, 2),
  };
  emit({
    bench: 'e2e', model: r.model, spec: r.spec, mode: r.mode, images: n, batch: r.batch, drelus_per_image: rep.drelus, relus_per_image: rep.relus,
    ...row, setup_bytes: rep.setup.bytes, setup_s: round(rep.setup.seconds, 2), online_rounds_per_batch: rep.online.rounds,
    paper_setting: p.setting, paper_bytes: p.bytes, paper_s: p.seconds, bytes_ratio: round(p.bytes / bytes, 2), time_ratio: round(p.seconds / seconds, 2),
  });
  out[`${r.model === 'resnet50' ? 'r50' : 'r18'}_${r.spec === 'relu' ? 'full' : '6pct'}_${r.mode}`] = row;
}

const summary: Record<string, number | boolean> = { quick };
for (const m of quick ? ['r18'] : ['r18', 'r50']) {
  for (const s of ['6pct', 'full']) {
    const row = out[`${m}_${s}_small16`]!;
    summary[`${m}_${s}_bytes`] = row.bytes_per_image!;
    summary[`${m}_${s}_s`] = row.s_per_image!;
    summary[`${m}_${s}_online_s`] = row.online_s_per_image!;
    summary[`${m}_${s}_64bit_bytes`] = out[`${m}_${s}_full`]!.bytes_per_image!;
  }
}
emit({ bench: 'e2e', ...summary });
