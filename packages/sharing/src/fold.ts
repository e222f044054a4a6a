/**
 * Folding batch normalisation into the preceding convolution (float, before fixed-point encoding):
 * BN(conv(x, w) + b) = conv(x, w * s) + (b - mean) * s + beta, with s = gamma / sqrt(var + eps) per
 * output channel.
 * @module
 */

export interface BatchNorm {
  gamma: ArrayLike<number>;
  beta: ArrayLike<number>;
  mean: ArrayLike<number>;
  variance: ArrayLike<number>;
  eps?: number;
}

/**
 * @param weight - [O, ...] row-major
 * @param bias - [O] or undefined (zero)
 * @returns the folded weight and bias (float64)
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
