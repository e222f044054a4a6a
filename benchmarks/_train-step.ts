// One engine measurement, run as a child process by models.ts: the Fashion-MNIST ResNet's training step
// (forward, backward, SGD) at the given batch, fastest of `steps` after 3 warm-up steps, and ResNet50's
// forward at 224x224, batch 1 (fastest of `steps` after one). Prints one JSON line. It imports the @si
// packages of the tree it runs in, so models.ts can run the same file in a worktree of another commit
// (--baseline REF) and compare in one run; it uses only APIs both trees have.
import seedrandom from 'seedrandom';
import { backward, crossEntropy, fmnistResNet, forward, initParams, release, releaseGrads, resnet50, Sgd } from '@si/models';

const [batchArg, stepsArg] = process.argv.slice(2);
const N = Number(batchArg ?? 64), steps = Number(stepsArg ?? 6);
const r = seedrandom('bench/train-step');
const x = Float32Array.from({ length: N * 784 }, () => r()), labels = Array.from({ length: N }, () => Math.floor(r() * 10));
const g = fmnistResNet();
const params = initParams(g, 1);
const opt = new Sgd(params, { momentum: 0.9, weightDecay: 5e-4 });
const step = (): void => {
  const { out, trace } = forward(g, params, x, N, { training: true });
  const { grads } = backward(trace, params, crossEntropy(out, labels, 10).dLogits);
  opt.step(grads, 0.01);
  release(trace);
  releaseGrads(grads);
};
for (let s = 0; s < 3; s++) step();
let best = Infinity;
for (let s = 0; s < steps; s++) {
  const t0 = performance.now();
  step();
  best = Math.min(best, (performance.now() - t0) / 1000);
}
const r50 = resnet50(), r50p = initParams(r50, 1);
const img = Float32Array.from({ length: 3 * 224 * 224 }, () => r());
forward(r50, r50p, img, 1);
let r50S = Infinity;
for (let s = 0; s < steps; s++) {
  const t0 = performance.now();
  forward(r50, r50p, img, 1);
  r50S = Math.min(r50S, (performance.now() - t0) / 1000);
}
console.log(JSON.stringify({ batch: N, step_s: best, r50_forward_s: r50S }));
