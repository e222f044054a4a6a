/**
 * batchnorm: per-channel normalisation over (N, H, W), with running statistics. Training uses and updates
 * batch statistics; inference uses the running ones. In fixed point it is folded into the convolution
 * before it (foldBatchNorm), so a secure run computes nothing for it; one that does not follow a
 * convolution with no other readers is refused.
 * @module
 */
import { channelAffineBackwardF32, channelAffineF32 } from '@si/ring';
import type { BufferPool } from '../float/pool.ts';
import { defineOp } from './op.ts';
import { registerOp } from './table.ts';

declare module '../graph.ts' {
  interface OpTypes {
    batchnorm: { eps: number; momentum: number };
  }
}

export interface BatchNorm {
  gamma: ArrayLike<number>;
  beta: ArrayLike<number>;
  mean: ArrayLike<number>;
  variance: ArrayLike<number>;
  eps?: number;
}

/**
 * Folds batch normalisation into the preceding convolution (float, before fixed-point encoding):
 * BN(conv(x, w) + b) = conv(x, w * s) + (b - mean) * s + beta, with s = gamma / sqrt(var + eps) per
 * output channel.
 * @param weight - [O, ...] row-major
 * @param bias - [O] or undefined (zero)
 * @returns the folded weight and bias (float64)
 * @throws {RangeError} on sizes that do not fit or a non-positive variance
 */
export function foldBatchNorm(weight: ArrayLike<number>, bias: ArrayLike<number> | undefined, outChannels: number, bn: BatchNorm): { weight: Float64Array; bias: Float64Array } {
  const O = outChannels;
  if (weight.length % O !== 0) throw new RangeError(`weight has ${weight.length} values, not a multiple of ${O} channels`);
  for (const k of ['gamma', 'beta', 'mean', 'variance'] as const)
    if (bn[k].length !== O) throw new RangeError(`batch norm "${k}" has ${bn[k].length} values for ${O} channels`);
  const per = weight.length / O, eps = bn.eps ?? 1e-5;
  const w = new Float64Array(weight.length), b = new Float64Array(O);
  for (let o = 0; o < O; o++) {
    const v = bn.variance[o]!;
    if (!(v + eps > 0)) throw new RangeError(`batch norm variance of channel ${o} is ${v}`);
    const s = bn.gamma[o]! / Math.sqrt(v + eps);
    for (let i = 0; i < per; i++) w[o * per + i] = weight[o * per + i]! * s;
    b[o] = ((bias?.[o] ?? 0) - bn.mean[o]!) * s + bn.beta[o]!;
  }
  return { weight: w, bias: b };
}

interface BnCache {
  xhat: Float32Array;
  invStd: Float32Array;
}

function bnForward(
  P_: BufferPool, x: Float32Array, N: number, C: number, P: number, gamma: Float32Array, beta: Float32Array, mean: Float32Array, variance: Float32Array,
  eps: number, momentum: number, training: boolean,
): { y: Float32Array; cache: BnCache | null } {
  const y = P_.f32(x.length);
  const invStd = P_.f32(C);
  const xhat = training ? P_.f32(x.length) : null;
  const M = N * P;
  // y = gamma (x - mu) / sd + beta = x a + b per channel, with (a, b, mu, 1 / sd) computed from the
  // batch's sums in training and from the running statistics otherwise.
  const coef = (sums: Float64Array | null): Float64Array => {
    const k = new Float64Array(4 * C);
    for (let c = 0; c < C; c++) {
      let mu: number, v: number;
      if (sums) {
        mu = sums[2 * c]! / M;
        v = Math.max(0, sums[2 * c + 1]! / M - mu * mu);
        mean[c] = (1 - momentum) * mean[c]! + momentum * mu;
        variance[c] = (1 - momentum) * variance[c]! + momentum * (M > 1 ? (v * M) / (M - 1) : v);
      } else {
        mu = mean[c]!;
        v = variance[c]!;
      }
      const is = 1 / Math.sqrt(v + eps);
      invStd[c] = is;
      k[4 * c] = gamma[c]! * is;
      k[4 * c + 1] = beta[c]! - mu * gamma[c]! * is;
      k[4 * c + 2] = mu;
      k[4 * c + 3] = is;
    }
    return k;
  };
  channelAffineF32(x, N, C, P, coef, y, { sums: training, ...(xhat ? { xhat } : {}) });
  if (!xhat) P_.release(invStd);
  return { y, cache: xhat ? { xhat, invStd } : null };
}

function bnBackward(P_: BufferPool, dy: Float32Array, cache: BnCache, N: number, C: number, P: number, gamma: Float32Array): { dx: Float32Array; dgamma: Float32Array; dbeta: Float32Array } {
  const dx = P_.f32(dy.length), dgamma = P_.f32(C), dbeta = P_.f32(C);
  const M = N * P;
  // dx = k (M dy - sum(dy) - xhat sum(dy xhat)), k = gamma / (sd M), as dy a + xhat b + e.
  const coef = (sums: Float64Array): Float64Array => {
    const k3 = new Float64Array(3 * C);
    for (let c = 0; c < C; c++) {
      const sdy = sums[2 * c]!, sdyx = sums[2 * c + 1]!, k = (gamma[c]! * cache.invStd[c]!) / M;
      dgamma[c] = sdyx;
      dbeta[c] = sdy;
      k3[3 * c] = k * M;
      k3[3 * c + 1] = -k * sdyx;
      k3[3 * c + 2] = -k * sdy;
    }
    return k3;
  };
  channelAffineBackwardF32(dy, cache.xhat, N, C, P, coef, dx);
  return { dx, dgamma, dbeta };
}

/** Inference mode: a fixed per-channel affine map, y = gamma (x - mean) / sqrt(var + eps) + beta; the input gradient only. */
function bnAffineBackward(P: BufferPool, dy: Float32Array, N: number, C: number, HW: number, gamma: Float32Array, variance: Float32Array, eps: number): Float32Array {
  const dx = P.f32(dy.length);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const k = gamma[c]! / Math.sqrt(variance[c]! + eps), o = (n * C + c) * HW;
      for (let p = 0; p < HW; p++) dx[o + p] = dy[o + p]! * k;
    }
  }
  return dx;
}

export const batchnorm = registerOp(defineOp({
  op: 'batchnorm',
  shape: (_a, [x]) => x!,
  params(n, [x]) {
    const C = x![0]!;
    return [
      { name: `${n.name}.weight`, shape: [C], kind: 'bn_weight' }, { name: `${n.name}.bias`, shape: [C], kind: 'bn_bias' },
      { name: `${n.name}.running_mean`, shape: [C], kind: 'bn_mean' }, { name: `${n.name}.running_var`, shape: [C], kind: 'bn_var' },
    ];
  },
  refuse(n, graph) {
    const src = graph.node(n.inputs[0]!);
    if (src.op !== 'conv') return `batch norm "${n.name}" must follow a convolution to be folded`;
    if (graph.consumers(src.name).length !== 1) return `batch norm "${n.name}": its convolution "${src.name}" has other readers, so it cannot be folded`;
    return null;
  },
  forward(c, n, [x]) {
    const s = c.graph.node(n.inputs[0]!).shape, C = s[0]!;
    const r = bnForward(c.pool, x!, c.N, C, x!.length / (c.N * C), c.param(`${n.name}.weight`), c.param(`${n.name}.bias`), c.param(`${n.name}.running_mean`), c.param(`${n.name}.running_var`), n.eps, n.momentum, c.training);
    return { y: r.y, ...(c.keep && r.cache ? { cache: r.cache } : {}) };
  },
  backward(c, n, dy, cache) {
    const C = c.graph.node(n.inputs[0]!).shape[0]!, HW = dy.length / (c.N * C);
    if (!cache) return { dx: [bnAffineBackward(c.pool, dy, c.N, C, HW, c.param(`${n.name}.weight`), c.param(`${n.name}.running_var`), n.eps)] };
    const r = bnBackward(c.pool, dy, cache as BnCache, c.N, C, HW, c.param(`${n.name}.weight`));
    return { dx: [r.dx], grads: [[`${n.name}.weight`, r.dgamma], [`${n.name}.bias`, r.dbeta]] };
  },
  // Folded into the convolution before it at compile time (refuse() makes sure it can be).
  ring: (_be, _n, [x]) => x!,
}));
