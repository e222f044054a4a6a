/**
 * Training helpers: softmax cross-entropy, SGD with momentum and weight decay, learning-rate schedules.
 * @module
 */
import type { Params } from '../ops/op.ts';

/** Mean softmax cross-entropy over the batch and its gradient with respect to the logits. */
export function crossEntropy(logits: Float32Array, labels: ArrayLike<number>, classes: number): { loss: number; dLogits: Float32Array; correct: number } {
  const N = labels.length;
  const d = new Float32Array(logits.length);
  let loss = 0, correct = 0;
  for (let n = 0; n < N; n++) {
    const o = n * classes;
    let max = -Infinity, arg = 0;
    for (let c = 0; c < classes; c++) if (logits[o + c]! > max) (max = logits[o + c]!, (arg = c));
    let z = 0;
    for (let c = 0; c < classes; c++) z += d[o + c] = Math.exp(logits[o + c]! - max);
    const y = labels[n]!;
    if (arg === y) correct++;
    loss += Math.log(z) - (logits[o + y]! - max);
    const s = 1 / (z * N);
    for (let c = 0; c < classes; c++) d[o + c]! *= s;
    d[o + y]! -= 1 / N;
  }
  return { loss: loss / N, dLogits: d, correct };
}

export interface SgdOptions {
  momentum?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

/** SGD with momentum and (decoupled from the loss, coupled to the gradient as in PyTorch) weight decay. */
export class Sgd {
  private readonly velocity = new Map<string, Float32Array>();
  constructor(readonly params: Params, readonly opts: SgdOptions = {}) {}

  /** Applies one step with learning rate lr; parameters without a gradient (running statistics) are skipped. */
  step(grads: Params, lr: number): void {
    const mu = this.opts.momentum ?? 0.9, wd = this.opts.weightDecay ?? 0, nesterov = !!this.opts.nesterov;
    for (const [name, g] of grads) {
      const p = this.params.get(name);
      if (!p) throw new Error(`gradient for unknown parameter "${name}"`);
      const decay = name.endsWith('.weight') && !name.includes('.bn') ? wd : 0;
      let v = this.velocity.get(name);
      if (!v) this.velocity.set(name, (v = new Float32Array(p.length)));
      for (let i = 0; i < p.length; i++) {
        const gi = g[i]! + decay * p[i]!;
        v[i] = mu * v[i]! + gi;
        p[i]! -= lr * (nesterov ? gi + mu * v[i]! : v[i]!);
      }
    }
  }
}

/** Cosine decay from lr to 0 over total steps, after a linear warm-up. */
export function cosineLr(lr: number, step: number, total: number, warmup = 0): number {
  if (step < warmup) return (lr * (step + 1)) / warmup;
  const t = (step - warmup) / Math.max(1, total - warmup);
  return 0.5 * lr * (1 + Math.cos(Math.PI * Math.min(1, t)));
}

/** Step decay: lr * gamma^(number of milestones passed). */
export function stepLr(lr: number, epoch: number, milestones: readonly number[], gamma = 0.1): number {
  return lr * gamma ** milestones.filter((m) => epoch >= m).length;
}
