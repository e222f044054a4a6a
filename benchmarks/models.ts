// pnpm bench:models [-- --quick]
// Training throughput of the float engine on the small Fashion-MNIST ResNet (forward, backward, SGD step)
// against the same network and step in TensorFlow.js's CPU backend, in one run and at the same batch size
// (8 with --quick, 32 without: the tfjs CPU backend needs seconds per image); the engine's throughput at
// batch 64 (the training batch); and its ResNet50 forward time at 224x224, batch 1, against
// onnxruntime-node's on the same graph (exportOnnx) with the same number of threads.
// --baseline REF: also the batch-64 training step of commit REF (a temporary worktree), interleaved with
// this tree's in child processes (A B A B, fastest of each), and the speed-up.
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { getThreads } from '@si/ring';
import seedrandom from 'seedrandom';
import { backward, crossEntropy, exportOnnx, fmnistResNet, forward, initParams, release, releaseGrads, resnet50, Sgd } from '@si/models';
import { checkout, runScript } from './_baseline.ts';
import { emit, flags, round, time } from './_harness.ts';

const { quick, seed, value } = flags([], ['--baseline']);
const baselineRef = value('--baseline');
const N = quick ? 8 : 32, steps = quick ? 4 : 8;
const r = seedrandom(`${seed}/models`);
const batch = (n: number) => ({ x: Float32Array.from({ length: n * 784 }, () => r()), labels: Array.from({ length: n }, () => Math.floor(r() * 10)) });

// The engine.
const g = fmnistResNet();
const params = initParams(g, 1);
const opt = new Sgd(params, { momentum: 0.9, weightDecay: 5e-4 });
const step = (b: { x: Float32Array; labels: number[] }) => (): void => {
  const { out, trace } = forward(g, params, b.x, b.labels.length, { training: true });
  const { grads } = backward(trace, params, crossEntropy(out, b.labels, 10).dLogits);
  opt.step(grads, 0.01);
  release(trace);
  releaseGrads(grads);
};
const small = batch(N), big = batch(64);
const bestOf = (fn: () => void, n: number): number => {
  for (let s = 0; s < 3; s++) fn();
  let best = Infinity;
  for (let s = 0; s < n; s++) best = Math.min(best, time(fn));
  return best;
};
const oursS = bestOf(step(small), steps);
const ours64 = bestOf(step(big), steps);
const { x, labels } = small;

// TensorFlow.js CPU backend: the same network (NHWC), same batch, SGD with momentum.
await tf.setBackend('cpu');
function tfModel(): tf.LayersModel {
  const input = tf.input({ shape: [28, 28, 1] });
  const convBn = (t: tf.SymbolicTensor, filters: number, k: number, stride: number, relu: boolean): tf.SymbolicTensor => {
    let y = tf.layers.conv2d({ filters, kernelSize: k, strides: stride, padding: 'same', useBias: false }).apply(t) as tf.SymbolicTensor;
    y = tf.layers.batchNormalization().apply(y) as tf.SymbolicTensor;
    return relu ? (tf.layers.reLU().apply(y) as tf.SymbolicTensor) : y;
  };
  let t = convBn(input, 16, 3, 1, true);
  let cin = 16;
  [16, 32, 64].forEach((w, i) => {
    for (let b = 0; b < 2; b++) {
      const stride = b === 0 && i > 0 ? 2 : 1;
      const y = convBn(convBn(t, w, 3, stride, true), w, 3, 1, false);
      const sc = stride !== 1 || cin !== w ? convBn(t, w, 1, stride, false) : t;
      t = tf.layers.reLU().apply(tf.layers.add().apply([y, sc]) as tf.SymbolicTensor) as tf.SymbolicTensor;
      cin = w;
    }
  });
  const logits = tf.layers.dense({ units: 10 }).apply(tf.layers.globalAveragePooling2d({}).apply(t) as tf.SymbolicTensor) as tf.SymbolicTensor;
  const m = tf.model({ inputs: input, outputs: logits });
  m.compile({ optimizer: tf.train.momentum(0.01, 0.9), loss: (yt: tf.Tensor, yp: tf.Tensor) => tf.losses.softmaxCrossEntropy(yt, yp) });
  return m;
}
const model = tfModel();
const tx = tf.tensor4d(x, [N, 28, 28, 1]), ty = tf.oneHot(tf.tensor1d(labels, 'int32'), 10);
const theirs = async (): Promise<number> => {
  const t0 = performance.now();
  await model.trainOnBatch(tx, ty);
  return (performance.now() - t0) / 1000;
};
await theirs();
let tfS = Infinity;
for (let s = 0; s < (quick ? 2 : 4); s++) tfS = Math.min(tfS, await theirs());

// ResNet50 forward, batch 1.
const r50 = resnet50();
const r50p = initParams(r50, 1);
const img = Float32Array.from({ length: 3 * 224 * 224 }, () => r());
forward(r50, r50p, img, 1);
let r50S = Infinity;
for (let s = 0; s < (quick ? 2 : 4); s++) r50S = Math.min(r50S, time(() => forward(r50, r50p, img, 1)));

// The same ResNet50 in onnxruntime-node, as many threads as the engine uses; outputs compared.
const threads = getThreads();
const sess = await ort.InferenceSession.create(exportOnnx(r50, r50p), { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
const feed = { [r50.input]: new ort.Tensor('float32', img, [1, 3, 224, 224]) };
const ortOut = (await sess.run(feed))[sess.outputNames[0]!]!.data as Float32Array;
const ourOut = forward(r50, r50p, img, 1).out;
let diff = 0, mag = 0;
for (let i = 0; i < ourOut.length; i++) (diff = Math.max(diff, Math.abs(ourOut[i]! - ortOut[i]!))), (mag = Math.max(mag, Math.abs(ortOut[i]!)));
let ortS = Infinity;
for (let s = 0; s < (quick ? 2 : 4); s++) {
  const t0 = performance.now();
  await sess.run(feed);
  ortS = Math.min(ortS, (performance.now() - t0) / 1000);
}
emit({ bench: 'models', case: 'resnet50-forward', batch: 1, threads, engine_ms: round(r50S * 1000, 1), onnxruntime_ms: round(ortS * 1000, 1), ratio: round(r50S / ortS, 2), max_rel_diff: diff / mag });

// This tree's training step against the baseline commit's, both in child processes, interleaved.
let speedup: number | undefined;
if (baselineRef) {
  const base = checkout(baselineRef);
  try {
    const script = base.copy('_train-step.ts');
    const mine = { step: Infinity, r50: Infinity }, theirs = { step: Infinity, r50: Infinity };
    const keep = (best: typeof mine, r: Record<string, number>) => ((best.step = Math.min(best.step, r.step_s!)), (best.r50 = Math.min(best.r50, r.r50_forward_s!)));
    for (let round_ = 0; round_ < 2; round_++) {
      keep(mine, runScript(import.meta.dirname, '_train-step.ts', ['64', String(steps)]));
      keep(theirs, runScript(base.benchDir, script, ['64', String(steps)]));
    }
    speedup = round(theirs.step / mine.step, 2);
    emit({
      bench: 'models', case: 'vs-baseline', baseline: baselineRef, baseline_commit: base.commit.slice(0, 10),
      train_step_s_batch64: round(mine.step), baseline_train_step_s_batch64: round(theirs.step), train_speedup: speedup,
      r50_forward_ms: round(mine.r50 * 1000, 1), baseline_r50_forward_ms: round(theirs.r50 * 1000, 1), r50_speedup: round(theirs.r50 / mine.r50, 2),
    });
  } finally {
    base.dispose();
  }
}

emit({ bench: 'models', case: 'train', model: 'fmnist_resnet', batch: N, engine_step_s: round(oursS), tfjs_step_s: round(tfS), tfjs_backend: tf.getBackend() });
emit({
  bench: 'models',
  quick,
  batch: N,
  train_img_s: round(N / oursS, 1),
  tfjs_train_img_s: round(N / tfS, 2),
  ratio: round(tfS / oursS, 1),
  train_img_s_batch64: round(64 / ours64, 1),
  r50_forward_ms: round(r50S * 1000, 0),
  r50_onnxruntime_ms: round(ortS * 1000, 0),
  r50_vs_onnxruntime: round(r50S / ortS, 2),
  ...(speedup !== undefined ? { train_speedup_vs_baseline: speedup, baseline: baselineRef } : {}),
});
