// pnpm bench:e2e [-- --quick] [-- --profile lan|wan|both] [-- --paperlike-only]
// Secure inference end to end: client, server and helper as three local processes over TLS 1.3 with
// mutual authentication (si infer's runLocal), on seeded synthetic weights whose batch-norm statistics come
// from the network's own activations. ResNet18-CIFAR (32x32x3, 100 classes) and, without --quick,
// ResNet50 (224x224x3, 1000 classes); each with all ReLUs and with 6% DReLU specs from the exact
// knapsack on synthetic distortions, calibrated to the paper's identity fraction (`paperlike:0.06`, the
// summary's 6pct keys) and uncalibrated (`knapsack:0.06`, 6pct_synthetic); each in small-ring k=16 and
// full 64-bit comparison mode.
// Bytes are per image summed over the parties (preprocessing + online; setup once per model is printed
// apart); seconds per image are preprocessing + online (and online alone) at the batch size shown, over
// the batches after the first (warm-up: WebAssembly tier-up, first-touch memory). The ratios divide the
// paper's number for the same setting (benchmarks/paper.json) by ours.
// The paper-like 6% spec also runs with the two-hop sign test (`twohop16`: the same windows, one online
// round fewer per ReLU layer and per argmax sign test, more bytes per DReLU): summary keys *_twohop_*.
// --paperlike-only: just those rows on loopback (and shaped with --profile).
// --profile: the 6% small-ring rows (small16 and twohop16) again with every link shaped
// (benchmarks/_shaper.ts): LAN = 1 Gbit/s, 1 ms round trip; WAN = 400 Mbit/s, 40 ms round trip (Cheetah's
// WAN setting); `both` runs the two.
import { readFileSync } from 'node:fs';
import { runLocal } from '@si/cli';
import { emit, flags, round } from './_harness.ts';
import { PROFILES, shapedRelay, type Profile } from './_shaper.ts';

const { quick, value, has } = flags(['--paperlike-only'], ['--profile']);
const profileArg = value('--profile');
if (profileArg !== undefined && !['lan', 'wan', 'both'].includes(profileArg)) (console.error(`--profile: lan, wan or both, got ${profileArg}`), process.exit(2));
const profiles: Profile[] = profileArg === undefined ? [] : profileArg === 'both' ? [PROFILES.lan!, PROFILES.wan!] : [PROFILES[profileArg]!];
const paper = JSON.parse(readFileSync(new URL('./paper.json', import.meta.url), 'utf8'));

interface Row {
  model: string;
  key: 'cifar100_resnet18' | 'imagenet_resnet50';
  spec: string;
  mode: 'small16' | 'full' | 'twohop16';
  images: number;
  batch: number;
}

const rows: Row[] = [];
for (const [model, key, full, batch] of [['resnet18-cifar', 'cifar100_resnet18', 24, 8], ['resnet50', 'imagenet_resnet50', 3, 1]] as const) {
  if (quick && model === 'resnet50') continue;
  // --quick: two batches (the first is warm-up, the second is measured).
  const images = quick ? 2 * batch : full;
  for (const spec of ['paperlike:0.06', 'knapsack:0.06', 'relu']) for (const mode of ['small16', 'full'] as const) rows.push({ model, key, spec, mode, images, batch });
  rows.push({ model, key, spec: 'paperlike:0.06', mode: 'twohop16', images, batch });
}

function paperFor(r: Row): { bytes: number; seconds: number; setting: string } {
  const p = paper[r.key];
  if (r.spec === 'relu') return { ...p.baseline_maxpool_64bit, setting: 'baseline (max-pool net, 64-bit DReLU)' };
  const which = r.mode === 'full' ? 'exact_64bit' : 'approx_16bit';
  return { bytes: p[which].bytes[1], seconds: p[which].seconds[1], setting: `6% ${which}` };
}

/** Summary names: the paper-like 6% spec is `6pct` (the paper's point), the uncalibrated one `6pct_synthetic`. */
const specKey = (spec: string) => (spec === 'relu' ? 'full' : spec.startsWith('paperlike:') ? '6pct' : '6pct_synthetic');

/** One row's run: bytes and steady-state seconds per image (and the report's rounds). */
async function measure(r: Row, profile?: Profile) {
  const relays: { close(): void }[] = [];
  const route = profile ? async (_from: string, _to: string, port: number) => {
    const relay = await shapedRelay(port, profile);
    relays.push(relay);
    return relay.port;
  } : undefined;
  try {
    const rep = await runLocal({ model: r.model, weights: 'synthetic:bench', spec: r.spec, mode: r.mode, batch: r.batch, input: { kind: 'random', count: r.images, seed: 'bench' }, timeoutSeconds: 600, ...(route ? { route } : {}) });
    const n = rep.images;
    const bytes = (rep.online.bytes + rep.preprocess.bytes) / n;
    const steady = (v: number[]) => v.slice(1).reduce((a, b) => a + b, 0) / ((rep.batches - 1) * r.batch);
    const online = steady(rep.batchSeconds.online), pre = steady(rep.batchSeconds.preprocess);
    return {
      rep, n, bytes, seconds: online + pre,
      row: {
        bytes_per_image: Math.round(bytes), online_bytes_per_image: Math.round(rep.online.bytes / n), preprocess_bytes_per_image: Math.round(rep.preprocess.bytes / n),
        s_per_image: round(online + pre, 3), online_s_per_image: round(online, 3), preprocess_s_per_image: round(pre, 3),
        first_batch_s: round(rep.batchSeconds.online[0]! + rep.batchSeconds.preprocess[0]!, 2), online_rounds_per_batch: rep.online.rounds,
      },
    };
  } finally {
    for (const relay of relays) relay.close();
  }
}

/** The rows the shaped runs repeat: the paper-like 6% spec in small-ring modes. */
const shapedRow = (x: Row) => x.spec === 'paperlike:0.06' && x.mode !== 'full';
// --quick with --profile, or --paperlike-only: only the rows the shaped runs are compared with.
const loopbackRows = (quick && profiles.length) || has('--paperlike-only') ? rows.filter(shapedRow) : rows;
const out: Record<string, Record<string, number>> = {};
for (const r of loopbackRows) {
  const { rep, n, bytes, seconds, row } = await measure(r);
  const p = paperFor(r);
  emit({
    bench: 'e2e', model: r.model, spec: r.spec, mode: r.mode, images: n, batch: r.batch, drelus_per_image: rep.drelus, relus_per_image: rep.relus,
    ...row, setup_bytes: rep.setup.bytes, setup_s: round(rep.setup.seconds, 2),
    paper_setting: p.setting, paper_bytes: p.bytes, paper_s: p.seconds, bytes_ratio: round(p.bytes / bytes, 2), time_ratio: round(p.seconds / seconds, 2),
  });
  out[`${r.model === 'resnet50' ? 'r50' : 'r18'}_${specKey(r.spec)}_${r.mode}`] = row;
}

// The 6% small-ring rows again over shaped links.
const shaped: Record<string, number> = {};
for (const profile of profiles) {
  for (const r of rows.filter(shapedRow)) {
    const { n, seconds, row } = await measure(r, profile);
    const m = r.model === 'resnet50' ? 'r50' : 'r18', loop = out[`${m}_6pct_${r.mode}`]!;
    emit({ bench: 'e2e', profile: profile.name, link: `${profile.bitsPerSecond / 1e6} Mbit/s, ${profile.rttMs} ms RTT`, model: r.model, spec: r.spec, mode: r.mode, images: n, batch: r.batch, ...row, loopback_s_per_image: loop.s_per_image, slowdown: round(seconds / loop.s_per_image!, 2) });
    shaped[`${profile.name}_${m}_6pct${r.mode === 'twohop16' ? '_twohop' : ''}_s`] = row.s_per_image;
  }
}

const summary: Record<string, number | boolean> = { quick };
for (const m of quick ? ['r18'] : ['r18', 'r50']) {
  const two = out[`${m}_6pct_twohop16`];
  if (two) {
    summary[`${m}_6pct_twohop_bytes`] = two.bytes_per_image!;
    summary[`${m}_6pct_twohop_s`] = two.s_per_image!;
    summary[`${m}_6pct_twohop_rounds`] = two.online_rounds_per_batch!;
  }
  if (loopbackRows !== rows) continue;
  for (const s of ['6pct', '6pct_synthetic', 'full']) {
    const row = out[`${m}_${s}_small16`]!;
    summary[`${m}_${s}_bytes`] = row.bytes_per_image!;
    summary[`${m}_${s}_s`] = row.s_per_image!;
    summary[`${m}_${s}_online_s`] = row.online_s_per_image!;
    summary[`${m}_${s}_64bit_bytes`] = out[`${m}_${s}_full`]!.bytes_per_image!;
  }
  summary[`${m}_6pct_rounds`] = out[`${m}_6pct_small16`]!.online_rounds_per_batch!;
}
emit({ bench: 'e2e', ...summary, ...shaped });
