/**
 * Training and evaluation with the float engine: seeded SGD (momentum, weight decay, cosine schedule with
 * warm-up), random-crop and flip augmentation, optionally with patch ReLUs in place (fine-tuning; the
 * engine passes gradients straight through the patch decisions).
 * @module
 */
import seedrandom from 'seedrandom';
import type { Graph } from '../graph.ts';
import type { LayerSizes, Params } from '../ops/op.ts';
import { backward, forward, release, releaseGrads } from '../float/engine.ts';
import { cosineLr, crossEntropy, Sgd } from '../float/optim.ts';

/**
 * Labelled images for training: x [N, ...inputShape] and one class per image, or for a segmentation
 * network (output [classes, H, W] at the input's H x W) a class per pixel, [N, H, W].
 */
export interface Dataset {
  x: Float32Array;
  labels: Uint8Array;
  N: number;
}

/** Logits [B, K, P] (P pixels per image) as [B * P, K]: a row per pixel, as the losses take them. */
function pixelMajor(v: Float32Array, B: number, K: number, P: number, out: Float32Array = new Float32Array(v.length)): Float32Array {
  if (P === 1) return v;
  for (let b = 0; b < B; b++) for (let k = 0; k < K; k++) for (let p = 0; p < P; p++) out[(b * P + p) * K + k] = v[(b * K + k) * P + p]!;
  return out;
}

/** The inverse of pixelMajor. */
function classMajor(v: Float32Array, B: number, K: number, P: number, out: Float32Array = new Float32Array(v.length)): Float32Array {
  if (P === 1) return v;
  for (let b = 0; b < B; b++) for (let k = 0; k < K; k++) for (let p = 0; p < P; p++) out[(b * K + k) * P + p] = v[(b * P + p) * K + k]!;
  return out;
}

export interface TrainOptions {
  epochs: number;
  batch?: number;
  lr?: number;
  momentum?: number;
  weightDecay?: number;
  /** Warm-up steps (linear) before the cosine decay. Default: a fifth of an epoch. */
  warmup?: number;
  /** Pixels of zero padding for random crops (0 = none). Default 2. */
  crop?: number;
  /** Random horizontal flips. Default true. */
  flip?: boolean;
  seed: string;
  /** Patch ReLU sizes in place during training. */
  spec?: LayerSizes;
  /** The number of steps to run (overrides epochs; short runs, tests, or more than an epoch). */
  maxSteps?: number;
  /**
   * Knowledge distillation: the loss becomes (1 - weight) * CE + weight * T^2 * KL(teacher_T || student_T),
   * with the teacher (same graph, all ReLUs, inference mode) seeing the same augmented batch.
   */
  teacher?: { params: Params; temperature: number; weight: number };
  /**
   * Stochastic weight averaging (Izmailov et al. 2018): after the cosine schedule, `epochs` more epochs at the
   * constant rate `lr` (or, `cyclic`, each epoch a cosine from `lr` down to 0), averaging the weights at the end
   * of each; params end as that average, with batch-norm statistics recomputed by {@link recomputeBatchNorm}.
   */
  swa?: { epochs: number; lr: number; cyclic?: boolean };
  onStep?: (s: { step: number; steps: number; epoch: number; loss: number; acc: number; seconds: number }) => void;
  onEpoch?: (epoch: number, seconds: number) => void;
}

/** Trains params in place; returns the mean loss and accuracy of the last epoch's steps. */
export function train(graph: Graph, params: Params, data: Dataset, o: TrainOptions): { loss: number; acc: number; steps: number } {
  const B = o.batch ?? 64, classes = graph.outputShape[0]!;
  const [C, H, W] = graph.inputShape as [number, number, number];
  const px = C * H * W;
  // Segmentation: a label per pixel, cropped and flipped with its image.
  const P = graph.outputShape.length === 3 ? graph.outputShape[1]! * graph.outputShape[2]! : 1;
  if (P > 1 && (graph.outputShape[1] !== H || graph.outputShape[2] !== W))
    throw new RangeError(`training a segmentation network needs its output at the input's size (${H}x${W}), got ${graph.outputShape.slice(1).join('x')} (upsample the logits in the graph)`);
  if (data.labels.length !== data.N * P) throw new RangeError(`${data.labels.length} labels for ${data.N} images of ${P} output values each`);
  const perEpoch = Math.floor(data.N / B);
  // maxSteps, when given, is the length of the run (epochs follow from it).
  const main = o.maxSteps ?? perEpoch * o.epochs;
  const swaSteps = o.swa ? perEpoch * o.swa.epochs : 0, total = main + swaSteps;
  const avg = o.swa ? new WeightAverage(params) : null;
  const opt = new Sgd(params, { momentum: o.momentum ?? 0.9, weightDecay: o.weightDecay ?? 5e-4, nesterov: true });
  const rnd = seedrandom(`train/${o.seed}`);
  const x = new Float32Array(B * px), labels = new Uint8Array(B * P);
  const lx = new Float32Array(P), ly = new Float32Array(P);
  const t0 = performance.now();
  let step = 0, lossSum = 0, accSum = 0, seen = 0;
  for (let epoch = 0; step < total; epoch++) {
    const order = shuffle(data.N, rnd);
    lossSum = accSum = seen = 0;
    for (let b = 0; b < perEpoch && step < total; b++, step++) {
      for (let i = 0; i < B; i++) {
        const j = order[b * B + i]!;
        const aug = draw(o.crop ?? 2, o.flip ?? true, rnd);
        augment(data.x.subarray(j * px, (j + 1) * px), x.subarray(i * px, (i + 1) * px), C, H, W, aug);
        if (P === 1) labels[i] = data.labels[j]!;
        else {
          // The label map moves with the image (padding is background, class 0).
          lx.set(data.labels.subarray(j * P, (j + 1) * P));
          augment(lx, ly, 1, H, W, aug);
          labels.set(ly, i * P);
        }
      }
      const { out, trace } = forward(graph, params, x, B, { training: true, spec: o.spec });
      // Per-pixel logits (segmentation) are transposed to [pixels, classes] and back in pooled buffers.
      const [lm, gm] = P === 1 ? [undefined, undefined] : [trace.pool.f32(out.length), trace.pool.f32(out.length)];
      const logits = pixelMajor(out, B, classes, P, lm);
      const ce = crossEntropy(logits, labels, classes);
      if (o.teacher) distill(graph, o.teacher, x, B, logits, ce.dLogits, classes, P);
      const { grads } = backward(trace, params, classMajor(ce.dLogits, B, classes, P, gm));
      trace.pool.release(lm, gm);
      opt.step(grads, step < main ? cosineLr(o.lr ?? 0.1, step, main, o.warmup ?? Math.ceil(perEpoch / 5)) : swaLr(o.swa!, (step - main) % perEpoch, perEpoch));
      release(trace);
      releaseGrads(grads);
      lossSum += ce.loss * B;
      accSum += ce.correct / P;
      seen += B;
      o.onStep?.({ step: step + 1, steps: total, epoch, loss: lossSum / seen, acc: accSum / seen, seconds: (performance.now() - t0) / 1000 });
      if (avg && step + 1 > main && (step + 1 - main) % perEpoch === 0) avg.add(params);
    }
    o.onEpoch?.(epoch, (performance.now() - t0) / 1000);
  }
  if (avg) {
    avg.copyTo(params);
    recomputeBatchNorm(graph, params, data, { spec: o.spec });
  }
  return { loss: lossSum / Math.max(1, seen), acc: accSum / Math.max(1, seen), steps: step };
}

const swaLr = (s: NonNullable<TrainOptions['swa']>, step: number, perEpoch: number) => (s.cyclic ? cosineLr(s.lr, step, perEpoch) : s.lr);

/** Running mean of weight snapshots (batch-norm running statistics are recomputed afterwards, not averaged). */
class WeightAverage {
  private readonly sum = new Map<string, Float64Array>();
  private n = 0;
  constructor(params: Params) {
    for (const [k, v] of params) if (!isBatchNormStat(k)) this.sum.set(k, new Float64Array(v.length));
  }
  add(params: Params): void {
    for (const [k, s] of this.sum) {
      const v = params.get(k)!;
      for (let i = 0; i < s.length; i++) s[i]! += v[i]!;
    }
    this.n++;
  }
  copyTo(params: Params): void {
    if (this.n === 0) return;
    for (const [k, s] of this.sum) {
      const v = params.get(k)!;
      for (let i = 0; i < s.length; i++) v[i] = s[i]! / this.n;
    }
  }
}

const isBatchNormStat = (k: string) => k.endsWith('.running_mean') || k.endsWith('.running_var');

/**
 * Sets every batch norm's running statistics to the mean of its batch statistics over the first `images`
 * training images (no augmentation, patch ReLUs of `spec` in place), as weight averaging requires.
 * Each training-mode forward leaves r = m * batch + (1 - m) * r0 in the running buffers; starting from
 * r0 = (0, 1) the batch statistics are recovered (up to float32 rounding).
 */
export function recomputeBatchNorm(graph: Graph, params: Params, data: Dataset, o: { spec?: LayerSizes; images?: number; batch?: number } = {}): void {
  const B = o.batch ?? 250, px = data.x.length / data.N;
  const batches = Math.max(1, Math.floor(Math.min(o.images ?? 15000, data.N) / B));
  const norms = graph.nodes.flatMap((n) => (n.op === 'batchnorm' ? [{ name: n.name, m: n.momentum }] : []));
  const acc = norms.map(({ name }) => ({ mean: new Float64Array(params.get(`${name}.running_mean`)!.length), var: new Float64Array(params.get(`${name}.running_var`)!.length) }));
  for (let b = 0; b < batches; b++) {
    for (const { name } of norms) {
      params.get(`${name}.running_mean`)!.fill(0);
      params.get(`${name}.running_var`)!.fill(1);
    }
    release(forward(graph, params, data.x.subarray(b * B * px, (b + 1) * B * px), B, { training: true, spec: o.spec }).trace);
    norms.forEach(({ name, m }, j) => {
      const rm = params.get(`${name}.running_mean`)!, rv = params.get(`${name}.running_var`)!;
      for (let i = 0; i < rm.length; i++) {
        acc[j]!.mean[i]! += rm[i]! / m;
        acc[j]!.var[i]! += (rv[i]! - (1 - m)) / m;
      }
    });
  }
  norms.forEach(({ name }, j) => {
    const rm = params.get(`${name}.running_mean`)!, rv = params.get(`${name}.running_var`)!;
    for (let i = 0; i < rm.length; i++) {
      rm[i] = acc[j]!.mean[i]! / batches;
      rv[i] = acc[j]!.var[i]! / batches;
    }
  });
}

function distill(graph: Graph, t: NonNullable<TrainOptions['teacher']>, x: Float32Array, B: number, out: Float32Array, dLogits: Float32Array, classes: number, P: number): void {
  const { out: tOut, trace } = forward(graph, t.params, x, B);
  const tm = P === 1 ? undefined : trace.pool.f32(tOut.length);
  const teacher = pixelMajor(tOut, B, classes, P, tm);
  distillation(out, teacher, classes, t.temperature, t.weight, dLogits);
  release(trace);
  trace.pool.release(tm);
}

/**
 * Knowledge distillation on a batch of logits: returns the mean of T^2 * KL(softmax(t / T) || softmax(s / T))
 * and, when `dLogits` (the cross-entropy gradient of the same batch) is given, replaces it in place by
 * (1 - weight) * dLogits + weight * d(mean KD loss)/ds, using d/ds [T^2 KL] = T (softmax(s / T) - softmax(t / T)).
 */
export function distillation(student: Float32Array, teacher: Float32Array, classes: number, T: number, weight: number, dLogits?: Float32Array): number {
  const B = student.length / classes;
  const ps = new Float64Array(classes), pt = new Float64Array(classes), ls = new Float64Array(classes), lt = new Float64Array(classes);
  const k = (weight * T) / B;
  let loss = 0;
  for (let n = 0; n < B; n++) {
    const o = n * classes;
    softmax(student, o, classes, T, ps, ls);
    softmax(teacher, o, classes, T, pt, lt);
    for (let c = 0; c < classes; c++) loss += pt[c]! * (lt[c]! - ls[c]!);
    if (dLogits) for (let c = 0; c < classes; c++) dLogits[o + c] = (1 - weight) * dLogits[o + c]! + k * (ps[c]! - pt[c]!);
  }
  return (T * T * loss) / B;
}

/**
 * p = softmax(z[o .. o + n) / T) and log p, with log p_c = (z_c - max) / T - log(sum): one logarithm per
 * call, so KL(pt || ps) = sum pt (log pt - log ps) needs none per class.
 */
function softmax(z: Float32Array, o: number, n: number, T: number, p: Float64Array, logp: Float64Array): void {
  let max = -Infinity, sum = 0;
  for (let c = 0; c < n; c++) if (z[o + c]! > max) max = z[o + c]!;
  for (let c = 0; c < n; c++) {
    const u = (z[o + c]! - max) / T;
    logp[c] = u;
    sum += p[c] = Math.exp(u);
  }
  const inv = 1 / sum, lse = Math.log(sum);
  for (let c = 0; c < n; c++) {
    p[c]! *= inv;
    logp[c]! -= lse;
  }
}

/** Top-1 predictions of the float network in inference mode (running batch-norm statistics): per image, or per output pixel. */
export function predict(graph: Graph, params: Params, x: Float32Array, N: number, o: { spec?: LayerSizes; batch?: number; onBatch?: (done: number) => void } = {}): Uint8Array {
  const px = x.length / N, classes = graph.outputShape[0]!, B = o.batch ?? 250;
  const P = graph.outputShape.slice(1).reduce((a, b) => a * b, 1);
  const pred = new Uint8Array(N * P);
  for (let s = 0; s < N; s += B) {
    const n = Math.min(B, N - s);
    const { out, trace } = forward(graph, params, x.subarray(s * px, (s + n) * px), n, { spec: o.spec });
    for (let i = 0; i < n; i++)
      for (let p = 0; p < P; p++) {
        let best = 0;
        for (let c = 1; c < classes; c++) if (out[(i * classes + c) * P + p]! > out[(i * classes + best) * P + p]!) best = c;
        pred[(s + i) * P + p] = best;
      }
    release(trace);
    o.onBatch?.(s + n);
  }
  return pred;
}

export function accuracy(pred: ArrayLike<number>, labels: ArrayLike<number>): number {
  let ok = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === labels[i]) ok++;
  return ok / Math.max(1, pred.length);
}

export function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

function shuffle(n: number, rnd: () => number): Uint32Array {
  const a = Uint32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

interface Aug {
  dy: number;
  dx: number;
  flip: boolean;
}

/** A random crop offset within `pad` and a flip half the time. */
function draw(pad: number, flip: boolean, rnd: () => number): Aug {
  const dy = pad ? Math.floor(rnd() * (2 * pad + 1)) - pad : 0;
  const dx = pad ? Math.floor(rnd() * (2 * pad + 1)) - pad : 0;
  return { dy, dx, flip: flip && rnd() < 0.5 };
}

/** The crop `a` of the image zero-padded on each side, flipped left-right if `a.flip`. */
function augment(src: Float32Array, dst: Float32Array, C: number, H: number, W: number, a: Aug): void {
  const { dy, dx, flip: f } = a;
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < H; y++) {
      const sy = y + dy;
      for (let x = 0; x < W; x++) {
        const sx = (f ? W - 1 - x : x) + dx;
        dst[(c * H + y) * W + x] = sy >= 0 && sy < H && sx >= 0 && sx < W ? src[(c * H + sy) * W + sx]! : 0;
      }
    }
  }
}
