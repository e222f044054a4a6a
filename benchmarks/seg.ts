// pnpm bench:seg [-- --quick] [-- --declared]
// The paper's two segmentation networks, DeepLabV3 MobileNetV2-D8 (ADE20K shapes, 150 classes) and
// DeepLabV3 ResNet50-D8 (VOC shapes, 21 classes), at the paper's 512x683 image and at 512x512, with all
// ReLUs and with a 6% DReLU spec from the exact knapsack on synthetic distortions.
//
// Part 1, declared (every size, spec and mode): the bytes per image from the protocols' cost
// declarations, the same numbers the ledger tests hold every protocol to: weight setup (once),
// preprocessing, online, and the output stage both ways: the secure argmax at the head's 1/8 resolution
// (the client enlarges the label map: our default), or the logits upsampled securely to the image and
// the argmax there (the float pipeline's order).
// Part 2, measured (the 6% networks; with --quick only VOC at 512x512): three local processes over TLS
// (si infer's runLocal), seeded synthetic weights, one image; bytes, seconds and peak RSS per party.
import { runLocal, graphOf, parseMode, syntheticSpec } from '@si/cli';
import { classifyCost, deeplabV3MobileNetV2, deeplabV3R50, parseReveal, prepareSecureCost, publicModel, secureForwardCost, setupSecureCost, type Graph } from '@si/models';
import { totalBytes } from '@si/sharing';
import { emit, flags, round } from './_harness.ts';

const { quick, has } = flags(['--declared']);
const GB = 1e9;
const sum = (m: Map<string, unknown>) => [...m.values()].reduce((s: number, c) => s + totalBytes(c as never), 0);

type Net = { key: 'ade' | 'voc'; model: string; make: (hw: [number, number], up: boolean) => Graph };
const NETS: Net[] = [
  { key: 'ade', model: 'deeplabv3-mobilenet-v2', make: (hw, up) => deeplabV3MobileNetV2(150, hw, { upsample: up }) },
  { key: 'voc', model: 'deeplabv3-r50', make: (hw, up) => deeplabV3R50(21, hw, { upsample: up }) },
];
const SIZES: [number, number][] = [[512, 683], [512, 512]];
// Paper, 512x683 (benchmarks/paper.json has the classification rows; these are its Figure 6 numbers).
const PAPER = { ade: { full: { bytes: 64.0 * GB, s: 379 }, '6pct': { bytes: 7.05 * GB, s: 36.0 } }, voc: { full: { bytes: 106.2 * GB, s: 671 }, '6pct': { bytes: 13.8 * GB, s: 92.5 } } };

async function declared(net: Net, hw: [number, number], spec: 'relu' | 'knapsack:0.06', modeName: string) {
  const g = net.make(hw, false), up = net.make(hw, true);
  const s = spec === 'relu' ? undefined : syntheticSpec(g, 0.06, 'bench').layers;
  const mode = parseMode(modeName);
  const m = publicModel(g), mu = publicModel(up);
  const forward = sum(await secureForwardCost(m, 1, { spec: s, mode, prepared: true }));
  const pre = sum(await prepareSecureCost(m, 1));
  const label = parseReveal('label');
  const atHead = totalBytes(classifyCost(m, 1, label));
  // Upsampling the logits is local (no bytes); the argmax then runs on every image pixel.
  const atImage = totalBytes(classifyCost(mu, 1, label));
  const setup = sum(setupSecureCost(g));
  const relus = g.reluLayers().reduce((a, l) => a + l.relus, 0);
  return { forward, pre, atHead, atImage, setup, relus, bytes: forward + pre + atHead, bytesUpsampled: forward + pre + atImage };
}

const summary: Record<string, number> = {};
for (const net of NETS)
  for (const hw of SIZES)
    for (const spec of ['relu', 'knapsack:0.06'] as const)
      for (const mode of ['small:4:20', 'full']) {
        const d = await declared(net, hw, spec, mode);
        const which = spec === 'relu' ? 'full' : '6pct';
        const paper = hw[1] === 683 ? PAPER[net.key][which] : undefined;
        emit({
          bench: 'seg', part: 'declared', net: net.model, size: `${hw[0]}x${hw[1]}`, spec, mode, relus: d.relus,
          bytes_per_image: d.bytes, online_bytes: d.forward + d.atHead, preprocess_bytes: d.pre, output_argmax_at_head_bytes: d.atHead,
          bytes_if_upsampled_then_argmax: d.bytesUpsampled, output_argmax_at_image_bytes: d.atImage, setup_bytes: d.setup,
          ...(paper ? { paper_bytes: paper.bytes, bytes_ratio: round(paper.bytes / d.bytes, 2) } : {}),
        });
        if (hw[1] === 683 && mode === 'small:4:20') summary[`${net.key}_${which}_bytes`] = d.bytes;
      }

// Measured runs: 6% networks, one image each, three processes over TLS (--declared: none).
let peak = 0;
for (const net of has('--declared') ? [] : NETS)
  for (const hw of SIZES) {
    if (quick && !(net.key === 'voc' && hw[1] === 512)) continue;
    const model = `${net.model}@${hw[0]}x${hw[1]}`;
    graphOf(model);
    const t0 = performance.now();
    const rep = await runLocal({ model, weights: 'synthetic:bench', spec: 'knapsack:0.06', mode: 'small:4:20', batch: 1, input: { kind: 'random', count: 1, seed: 'bench' }, timeoutSeconds: 1800 });
    const rss = Math.max(...Object.values(rep.parties).map((p) => p.memory.peakMb ?? p.memory.endMb));
    peak = Math.max(peak, rss);
    emit({
      bench: 'seg', part: 'measured', net: net.model, size: `${hw[0]}x${hw[1]}`, spec: 'knapsack:0.06', mode: 'small:4:20', drelus: rep.drelus, relus: rep.relus,
      bytes_per_image: rep.online.bytes + rep.preprocess.bytes, online_bytes: rep.online.bytes, preprocess_bytes: rep.preprocess.bytes, setup_bytes: rep.setup.bytes,
      online_s: round(rep.online.seconds, 2), preprocess_s: round(rep.preprocess.seconds, 2), setup_s: round(rep.setup.seconds, 2), wall_s: round((performance.now() - t0) / 1000, 1),
      peak_rss_mb: Object.fromEntries(Object.entries(rep.parties).map(([r, p]) => [r, p.memory.peakMb ?? p.memory.endMb])),
    });
    if (hw[1] === 683) summary[`${net.key}_6pct_online_s`] = round(rep.online.seconds, 2);
  }
emit({ bench: 'seg', ...summary, peak_rss_mb: peak });
