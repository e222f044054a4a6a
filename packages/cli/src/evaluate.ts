/**
 * A model on its task's test split (Fashion-MNIST images: accuracy; Fashion-MNIST scenes: mean IoU): the
 * float32 network, its fixed-point twin (what the secure run must equal), and optionally the secure run
 * itself (three local processes over TLS), with traffic per image against the all-ReLU network's declared
 * traffic. Segmentation label maps are compared at the input's resolution (a head at 1/4 is enlarged as
 * the client enlarges it).
 * @module
 */
import { classifyCost, compileFixed, prepareSecureCost, secureForwardCost, twinClassify } from '@si/models';
import { encodeFixed } from '@si/ring';
import { totalBytes, type Cost } from '@si/sharing';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Graph } from '@si/models';
import { fashionFiles } from './fashion.ts';
import { upsampleLabels } from './labels.ts';
import { score, taskData, taskOfGraph } from './tasks.ts';
import { graphOf, loadSpec, loadWeights } from './models.ts';
import { runLocal, type SessionReport } from './orchestrate.ts';
import { parseMode } from './session.ts';
import { predict } from '@si/models';
import { dreluCount } from './party.ts';

export interface EvalOptions {
  model: string;
  weights: string;
  spec?: string;
  data?: string;
  start?: number;
  limit?: number;
  secure?: boolean;
  mode?: string;
  batch?: number;
  fracBits?: number;
  timeoutSeconds?: number;
  onTwin?: (done: number, total: number) => void;
  onSecureBatch?: (done: number, total: number, seconds: number) => void;
  /** The three parties are connected and have agreed on the session (secure runs). */
  onConnected?: () => void;
}

export interface EvalReport {
  task: 'classification' | 'segmentation';
  images: number;
  /** Classification: top-1 accuracy; segmentation: mean IoU (the same number under the names below). */
  float_acc: number;
  /** Accuracy of the fixed-point twin (the plaintext the secure run must equal). */
  plain_acc: number;
  /** Segmentation: the scores as mean IoU, and the secure one (or the twin's, without --secure) as `miou`. */
  float_miou?: number;
  plain_miou?: number;
  secure_miou?: number;
  miou?: number;
  /** Segmentation: the fraction of pixels whose secure label equals the twin's. */
  pixel_agreement?: number;
  drelus: number;
  relus: number;
  secure_acc?: number;
  /** What the secure run revealed to the client (label: the top-1 class only). */
  reveal?: string;
  /** Fraction of images whose secure top-1 (every pixel, for segmentation) equals the twin's. */
  agreement?: number;
  disagreements?: number[];
  /** Online and preprocessing bytes per image, all parties (one-time weight setup excluded). */
  bytes_per_image?: number;
  /** The same for the all-ReLU network in the same mode (declared costs, which tests hold equal to the ledgers). */
  full_relu_bytes_per_image?: number;
  setup_bytes?: number;
  images_per_second?: number;
  seconds?: number;
}

const sum = (m: Map<string, Cost>) => [...m.values()].reduce((s, c) => s + totalBytes(c), 0);

/** Declared per-image bytes (preprocess + online, with the label-only output) of a spec in a mode at batch size N. */
export async function declaredBytesPerImage(model: ReturnType<typeof compileFixed>, spec: Record<string, readonly (readonly [number, number])[]> | undefined, mode: string, N: number): Promise<number> {
  const online = await secureForwardCost(model, N, { spec, mode: parseMode(mode), prepared: true });
  return (sum(online) + totalBytes(classifyCost(model, N, { kind: 'label' }, parseMode(mode))) + sum(await prepareSecureCost(model, N))) / N;
}

/** Labels per image at the input's resolution: a segmentation map below it enlarged as the client does. */
function atInput(graph: Graph, labels: ArrayLike<number>, N: number): ArrayLike<number> {
  const [, H, W] = graph.inputShape as [number, number, number], out = graph.outputShape;
  if (out.length !== 3 || (out[1] === H && out[2] === W)) return labels;
  return upsampleLabels(Array.from(labels), N, [out[1]!, out[2]!], [H, W]);
}

/** Scenes (values k / 255) as an IDX image file the client reads, in a private temporary directory. */
function scenesFile(x: Float32Array, N: number, H: number, W: number): { path: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'si-scenes-'));
  const bytes = new Uint8Array(16 + N * H * W), v = new DataView(bytes.buffer);
  [0x803, N, H, W].forEach((d, i) => v.setUint32(4 * i, d));
  for (let i = 0; i < N * H * W; i++) bytes[16 + i] = Math.round(x[i]! * 255);
  const path = join(dir, 'scenes-idx3-ubyte');
  writeFileSync(path, bytes);
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function evaluate(o: EvalOptions): Promise<EvalReport> {
  const graph = graphOf(o.model);
  const task = taskOfGraph(graph);
  const params = loadWeights(graph, o.weights);
  const spec = loadSpec(graph, o.spec);
  const f = o.fracBits ?? 12, B = o.batch ?? 25;
  const test = taskData(task, 'test', { dir: o.data, start: o.start, count: o.limit });
  const N = test.N;
  const [C, H, W] = graph.inputShape as [number, number, number], px = C * H * W;
  const floatPred = atInput(graph, predict(graph, params, test.x, N, { spec: spec?.layers }), N);
  const { drelus, relus } = dreluCount(graph, spec);
  const scenes = task === 'segmentation' ? scenesFile(test.x, N, H, W) : undefined;
  const files = scenes ? { images: scenes.path } : fashionFiles('test', o.data);
  const mode = o.mode ?? 'small16';
  // The three parties run as their own processes while this one computes the twin, once they are connected
  // (this process starts them one after another, so it must not be busy before).
  let connected!: () => void;
  const ready = new Promise<void>((resolve) => (connected = resolve));
  const secure: Promise<SessionReport> | undefined = o.secure
    ? runLocal({
      model: o.model, weights: o.weights, spec: o.spec, mode, batch: B, fracBits: f, timeoutSeconds: o.timeoutSeconds,
      input: scenes ? { kind: 'idx', images: files.images } : { kind: 'idx', images: files.images, labels: (files as { labels: string }).labels, start: o.start ?? 0, count: N },
      onEvent: (role, e) => {
        if (role !== 'client') return;
        if (e.event === 'connected') (connected(), o.onConnected?.());
        if (e.event === 'batch') o.onSecureBatch?.(e.done as number, e.total as number, e.seconds as number);
      },
    })
    : undefined;
  try {
    if (secure) await Promise.race([ready, secure.then(() => {}, () => {})]);
  } finally {
    if (!secure) scenes?.remove();
  }
  const model = compileFixed(graph, params, f);
  const perOut = graph.outputShape.slice(1).reduce((a, b) => a * b, 1);
  const twinOut = new Uint8Array(N * perOut);
  for (let s = 0; s < N; s += B) {
    const n = Math.min(B, N - s);
    const x = encodeFixed(test.x.subarray(s * px, (s + n) * px), f, [n, C, H, W]);
    twinOut.set((await twinClassify(model, x, { kind: 'label' }, { spec: spec?.layers })).labels, s * perOut);
    o.onTwin?.(s + n, N);
  }
  const twin = atInput(graph, twinOut, N);
  const fl = score(task, floatPred, test.labels), pl = score(task, twin, test.labels);
  const report: EvalReport = {
    task, images: N, float_acc: fl, plain_acc: pl, drelus, relus,
    ...(task === 'segmentation' ? { float_miou: fl, plain_miou: pl, miou: pl } : {}),
  };
  if (!secure) return report;
  let r: SessionReport;
  try {
    r = await secure;
  } finally {
    scenes?.remove();
  }
  // Per image: its labels (one, or its map at the input's resolution) all equal to the twin's.
  const P = r.labels.length / N;
  const disagreements: number[] = [];
  let samePixels = 0;
  for (let i = 0; i < N; i++) {
    let same = true;
    for (let k = i * P; k < (i + 1) * P; k++) if (r.labels[k] === twin[k]) samePixels++; else same = false;
    if (!same) disagreements.push((o.start ?? 0) + i);
  }
  const seconds = r.online.seconds + r.preprocess.seconds;
  const sec = score(task, r.labels, test.labels);
  return {
    ...report,
    secure_acc: sec,
    ...(task === 'segmentation' ? { secure_miou: sec, miou: sec, pixel_agreement: samePixels / r.labels.length } : {}),
    reveal: r.reveal,
    agreement: 1 - disagreements.length / N,
    disagreements,
    bytes_per_image: Math.round((r.online.bytes + r.preprocess.bytes) / N),
    full_relu_bytes_per_image: Math.round(await declaredBytesPerImage(model, undefined, mode, B)),
    setup_bytes: r.setup.bytes,
    images_per_second: N / seconds,
    seconds,
  };
}
