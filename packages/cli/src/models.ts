/**
 * The model registry of the command line: architectures by name, their weights (a safetensors file, or
 * seeded synthetic weights whose batch-norm statistics are measured on random inputs so activations have
 * a realistic scale), and patch specs (a file, or knapsack-chosen from synthetic distortions).
 * @module
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ManifestError, parseManifest, type Manifest } from '@si/images';
import seedrandom from 'seedrandom';
import {
  deeplabV3MobileNetV2, deeplabV3R50, fmnistResNet, forward, initParams, loadParams, mobilenetV2, resnet18Cifar, resnet50, sceneNet,
  type Graph, type Params,
} from '@si/models';
import { candidatePatchSizes, mergeEqualCost, parseSpec, patchCost, type PatchSize, type PatchSpec, type ReluLayerInfo } from '@si/patch-relu';
import { solve } from '@si/knapsack';

/**
 * The architectures by name, each with its shipped manifest (preprocessing and class names,
 * assets/manifests/). `sized` makes a fully convolutional one for another input size (`NAME@HxW`).
 */
export const MODELS: Record<string, { make: () => Graph; sized?: (hw: [number, number]) => Graph; classes: number; note: string; manifest?: string }> = {
  'fmnist-resnet': { make: () => fmnistResNet(), classes: 10, note: 'small ResNet for 28x28x1 Fashion-MNIST', manifest: 'fmnist-resnet.json' },
  'resnet18-cifar': { make: () => resnet18Cifar(100), classes: 100, note: 'ResNet18 for CIFAR-100, 32x32x3', manifest: 'cifar100.json' },
  resnet50: { make: () => resnet50(1000), classes: 1000, note: 'ResNet50 v1.5 (average-pool stem), 224x224x3', manifest: 'imagenet-resnet50.json' },
  'mobilenet-v2': { make: () => mobilenetV2(1000), classes: 1000, note: 'MobileNetV2 with ReLU, 224x224x3', manifest: 'imagenet-mobilenet-v2.json' },
  'mobilenet-v2-relu6': { make: () => mobilenetV2(1000, 224, { relu6: true }), classes: 1000, note: 'MobileNetV2 with ReLU6 (as torchvision), 224x224x3', manifest: 'imagenet-mobilenet-v2.json' },
  'mobilenet-v2-relu6-cifar': { make: () => mobilenetV2(10, 32, { relu6: true }), classes: 10, note: 'MobileNetV2 with ReLU6 for 32x32x3, 10 classes', manifest: 'cifar10-mobilenet-v2.json' },
  'fmnist-scenes': { make: () => sceneNet(11, { upsample: true }), classes: 11, note: 'small DeepLabV3 for 64x64 Fashion-MNIST scenes, logits upsampled to 64x64 (the float pipeline)', manifest: 'fmnist-scenes.json' },
  'fmnist-scenes-head': { make: () => sceneNet(11), classes: 11, note: 'the same network (same weights), logits at 16x16: the secure argmax there, the client enlarges the map', manifest: 'fmnist-scenes.json' },
  'deeplabv3-mobilenet-v2': { make: () => deeplabV3MobileNetV2(150), sized: (hw) => deeplabV3MobileNetV2(150, hw), classes: 150, note: 'DeepLabV3 MobileNetV2-D8 (ADE20K), 512x512x3 (@HxW for another size, e.g. @512x683)', manifest: 'ade20k-deeplabv3-mobilenet-v2.json' },
  'deeplabv3-r50': { make: () => deeplabV3R50(21), sized: (hw) => deeplabV3R50(21, hw), classes: 21, note: 'DeepLabV3 ResNet50-D8 (VOC), 512x512x3 (@HxW for another size)', manifest: 'voc-deeplabv3-r50.json' },
};

/**
 * A model's manifest: the file given (`path`), else the one shipped for the architecture. Checked
 * against the network (name, input shape, number of classes).
 * @throws {ManifestError} or a read error naming the file
 */
export function loadManifest(model: string, graph: Graph, path?: string): Manifest | undefined {
  const { base, hw } = parseModelName(model);
  const file = path ?? (MODELS[base]?.manifest ? fileURLToPath(new URL(`../assets/manifests/${MODELS[base]!.manifest}`, import.meta.url)) : undefined);
  if (!file) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ManifestError(`cannot read the manifest ${file}: ${(e as Error).message}`);
  }
  const classes = graph.node(graph.output).shape[0]!;
  // A sized variant with the shipped manifest: the image is resized to cover H x W and centre-cropped to it.
  if (hw && !path) {
    const m = JSON.parse(text) as Manifest;
    m.input = { ...m.input, height: hw[0], width: hw[1] };
    m.transforms = [{ resize: Math.max(...hw) }, { centerCrop: hw }, ...m.transforms.filter((t) => 'normalize' in t)];
    text = JSON.stringify(m);
  }
  try {
    return parseManifest(text, { model: graph.name, input: graph.inputShape, classes });
  } catch (e) {
    (e as Error).message = `${file}: ${(e as Error).message}`;
    throw e;
  }
}

/** `NAME` or `NAME@HxW` (a sized variant). @throws {Error} on a malformed size */
function parseModelName(name: string): { base: string; hw?: [number, number] } {
  const at = name.indexOf('@');
  if (at < 0) return { base: name };
  const m = /^(\d+)x(\d+)$/.exec(name.slice(at + 1));
  if (!m || Number(m[1]) < 8 || Number(m[2]) < 8 || Number(m[1]) > 4096 || Number(m[2]) > 4096)
    throw new Error(`model "${name}": expected NAME@HxW with H and W in [8, 4096], e.g. deeplabv3-r50@512x683`);
  return { base: name.slice(0, at), hw: [Number(m[1]), Number(m[2])] };
}

/** The graph of a model name (`NAME` or `NAME@HxW`). @throws {Error} for an unknown name or a size it does not take */
export function graphOf(name: string): Graph {
  const { base, hw } = parseModelName(name);
  const m = MODELS[base];
  if (!m) throw new Error(`unknown model "${base}" (known: ${Object.keys(MODELS).join(', ')})`);
  if (!hw) return m.make();
  if (!m.sized) throw new Error(`model "${base}" takes one input size; only the segmentation networks take @HxW (${Object.keys(MODELS).filter((k) => MODELS[k]!.sized).join(', ')})`);
  return m.sized(hw);
}

/** Weights: `file:PATH` (safetensors) or `synthetic:SEED`. */
export function loadWeights(graph: Graph, source: string): Params {
  if (source.startsWith('synthetic:')) return syntheticWeights(graph, source.slice(10));
  const path = source.startsWith('file:') ? source.slice(5) : source;
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new Error(`cannot read weights ${path}: ${(e as Error).message}`);
  }
  return loadParams(graph, bytes).params;
}

/**
 * Seeded He-initialised weights with batch-norm statistics taken from the network's own activations on
 * random inputs (so every layer's pre-activations are roughly standard normal, as in a trained network),
 * and random batch-norm scales and shifts.
 */
export function syntheticWeights(graph: Graph, seed: string): Params {
  const params = initParams(graph, `synthetic/${seed}`);
  const r = seedrandom(`synthetic/${seed}/bn`);
  for (const [k, v] of params) {
    if (k.endsWith('.bn.weight')) for (let i = 0; i < v.length; i++) v[i] = 0.5 + r();
    if (k.endsWith('.bn.bias')) for (let i = 0; i < v.length; i++) v[i] = (r() - 0.5) * 0.4;
  }
  const [C, H, W] = graph.inputShape as [number, number, number];
  const N = H * W > 100_000 ? 2 : 8;
  const x = Float32Array.from({ length: N * C * H * W }, () => r() * 2 - 1);
  // Momentum 1 would set the running statistics in one pass; two passes with the default settle them.
  for (let i = 0; i < 2; i++) forward(graph, params, x, N, { training: true, keep: false });
  return params;
}

/**
 * A patch spec: `file:PATH`, `knapsack:FRACTION[:SEED]` — the exact knapsack on synthetic distortions
 * (syntheticDistortions) under a DReLU budget of FRACTION of the network's ReLUs — or
 * `paperlike:FRACTION[:SEED]`, the same with identity channels weighted to the paper's statistics
 * (PAPER_IDENTITY_WEIGHT).
 */
export function loadSpec(graph: Graph, source: string | undefined): PatchSpec | null {
  if (!source || source === 'relu') return null;
  if (source.startsWith('knapsack:')) {
    const [frac, seed = '0'] = source.slice(9).split(':');
    return syntheticSpec(graph, Number(frac), seed);
  }
  if (source.startsWith('paperlike:')) {
    const [frac, seed = '0'] = source.slice(10).split(':');
    return syntheticSpec(graph, Number(frac), seed, { identityWeight: PAPER_IDENTITY_WEIGHT });
  }
  const path = source.startsWith('file:') ? source.slice(5) : source;
  return parseSpec(readFileSync(path, 'utf8'), graph.reluLayers().map((l) => ({ name: l.name, channels: l.channels, H: l.H, W: l.W })));
}

/** One knapsack group per channel: the costs and synthetic distortions of its candidate patch sizes. */
export interface SyntheticGroup {
  costs: number[];
  values: number[];
  sizes: PatchSize[];
}

/**
 * Synthetic distortions for every channel of the given ReLU layers (for benchmarks and demos without a
 * trained network): per channel a scale s (log-normal, larger in early layers) and a decay a; an option
 * keeping a fraction r of the ReLUs gets s * (1 - r)^a * exp(N(0, 0.3^2)); a full ReLU costs nothing in
 * distortion. Equal-cost options are merged (lowest distortion kept), as the real pipeline does.
 */
export function syntheticDistortions(layers: readonly ReluLayerInfo[], seed: string, o: { identityWeight?: number } = {}): SyntheticGroup[] {
  const wId = o.identityWeight ?? 1;
  const r = seedrandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const groups: SyntheticGroup[] = [];
  layers.forEach((L, li) => {
    const cands = candidatePatchSizes(L.H, L.W).filter((s) => !(s[0] === 1 && s[1] === 0));
    const HW = L.H * L.W;
    for (let c = 0; c < L.channels; c++) {
      const s = Math.exp(gauss() - li / layers.length), a = 1 + 3 * r();
      const merged = mergeEqualCost(cands.map((size) => {
        const lower = patchCost(size, L.H, L.W);
        const identity = size[0] === 0;
        return { size, cost: patchCost(size, L.H, L.W, L.clipped), value: lower === HW ? 0 : (identity ? wId : 1) * s * (1 - lower / HW) ** a * Math.exp(0.3 * gauss()) };
      }));
      groups.push({ costs: merged.map((o) => o.cost), values: merged.map((o) => o.value), sizes: merged.map((o) => o.size) });
    }
  });
  return groups;
}

/**
 * The identity weight of the paper-like synthetic distortions (`paperlike:F`): an identity channel's
 * distortion is this fraction of what the synthetic model gives the largest patch. Calibrated so that the
 * exact knapsack at 6% leaves 44.6% of ResNet50's activations in identity channels, where the paper's own
 * 6% ResNet50 leaves about 44% (paper-digest §8.4, from its byte-exact totals); the uncalibrated model
 * (weight 1, `knapsack:F`) leaves 5%. ResNet18-CIFAR at 6% then has 60% (13% uncalibrated).
 */
export const PAPER_IDENTITY_WEIGHT = 0.56;

/** The exact knapsack on synthetic distortions under a budget of `fraction` of the network's ReLUs. */
export function syntheticSpec(graph: Graph, fraction: number, seed: string, o: { identityWeight?: number } = {}): PatchSpec {
  if (!(fraction > 0 && fraction <= 1)) throw new Error(`budget fraction must be in (0, 1], got ${fraction}`);
  const layers = graph.reluLayers();
  const groups = syntheticDistortions(layers, `spec/${graph.name}/${seed}`, o);
  // The budget is a fraction of the network's ReLUs; a clip layer's upper clips count against it too.
  const total = layers.reduce((s, l) => s + l.relus, 0);
  const sol = solve({ budget: Math.floor(fraction * total), groups });
  const spec: PatchSpec = { format: 'si-patch-spec', version: 1, model: graph.name, layers: {} };
  let g = 0;
  for (const L of layers) spec.layers[L.name] = Array.from({ length: L.channels }, () => groups[g]!.sizes[sol.choice[g++]!]!);
  return spec;
}
