/**
 * Accuracy of a model on Fashion-MNIST test images: the float32 network, its fixed-point twin (what the
 * secure run must equal), and optionally the secure run itself (three local processes over TLS), with
 * traffic per image against the all-ReLU network's declared traffic.
 * @module
 */
import { classifyCost, compileFixed, prepareSecureCost, secureForwardCost, twinClassify } from '@si/models';
import { encodeFixed } from '@si/ring';
import { totalBytes, type Cost } from '@si/sharing';
import { fashionFiles, loadFashion } from './fashion.ts';
import { graphOf, loadSpec, loadWeights } from './models.ts';
import { runLocal, type SessionReport } from './orchestrate.ts';
import { parseMode } from './session.ts';
import { accuracy, predict } from '@si/models';
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
  images: number;
  float_acc: number;
  /** Accuracy of the fixed-point twin (the plaintext the secure run must equal). */
  plain_acc: number;
  drelus: number;
  relus: number;
  secure_acc?: number;
  /** What the secure run revealed to the client (label: the top-1 class only). */
  reveal?: string;
  /** Fraction of images whose secure top-1 equals the twin's. */
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
  return (sum(online) + totalBytes(classifyCost(model, N, { kind: 'label' })) + sum(await prepareSecureCost(model, N))) / N;
}

export async function evaluate(o: EvalOptions): Promise<EvalReport> {
  const graph = graphOf(o.model);
  const params = loadWeights(graph, o.weights);
  const spec = loadSpec(graph, o.spec);
  const f = o.fracBits ?? 12, B = o.batch ?? 25;
  const test = loadFashion('test', { dir: o.data, start: o.start, count: o.limit });
  const N = test.N;
  const floatPred = predict(graph, params, test.x, N, { spec: spec?.layers });
  const { drelus, relus } = dreluCount(graph, spec);
  const files = fashionFiles('test', o.data);
  const mode = o.mode ?? 'small16';
  // The three parties run as their own processes while this one computes the twin, once they are connected
  // (this process starts them one after another, so it must not be busy before).
  let connected!: () => void;
  const ready = new Promise<void>((resolve) => (connected = resolve));
  const secure: Promise<SessionReport> | undefined = o.secure
    ? runLocal({
      model: o.model, weights: o.weights, spec: o.spec, mode, batch: B, fracBits: f, timeoutSeconds: o.timeoutSeconds,
      input: { kind: 'idx', images: files.images, labels: files.labels, start: o.start ?? 0, count: N },
      onEvent: (role, e) => {
        if (role !== 'client') return;
        if (e.event === 'connected') (connected(), o.onConnected?.());
        if (e.event === 'batch') o.onSecureBatch?.(e.done as number, e.total as number, e.seconds as number);
      },
    })
    : undefined;
  if (secure) await Promise.race([ready, secure.then(() => {}, () => {})]);
  const model = compileFixed(graph, params, f);
  const twin = new Uint8Array(N);
  for (let s = 0; s < N; s += B) {
    const n = Math.min(B, N - s);
    const x = encodeFixed(test.x.subarray(s * 784, (s + n) * 784), f, [n, 1, 28, 28]);
    twin.set((await twinClassify(model, x, { kind: 'label' }, { spec: spec?.layers })).labels, s);
    o.onTwin?.(s + n, N);
  }
  const report: EvalReport = { images: N, float_acc: accuracy(floatPred, test.labels), plain_acc: accuracy(twin, test.labels), drelus, relus };
  if (!secure) return report;
  const r = await secure;
  const disagreements = r.labels.flatMap((p, i) => (p === twin[i] ? [] : [(o.start ?? 0) + i]));
  const seconds = r.online.seconds + r.preprocess.seconds;
  return {
    ...report,
    secure_acc: accuracy(r.labels, test.labels),
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
