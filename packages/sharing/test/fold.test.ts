import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { foldBatchNorm } from '../src/index.ts';

test('folded conv + bias equals conv, then batch norm, per output channel', () => {
  // Two output channels, three weights each; a "conv" of a fixed input vector is a dot product.
  const w = [0.5, -1, 2, 3, 0.25, -0.5], b = [0.1, -0.2], x = [1, 2, -1];
  const bn = { gamma: [2, 0.5], beta: [0.3, -1], mean: [0.05, 1], variance: [4, 0.25], eps: 0 };
  const folded = foldBatchNorm(w, b, 2, bn);
  for (let o = 0; o < 2; o++) {
    const conv = x.reduce((s, v, i) => s + v * w[o * 3 + i]!, b[o]!);
    const want = ((conv - bn.mean[o]!) / Math.sqrt(bn.variance[o]!)) * bn.gamma[o]! + bn.beta[o]!;
    const got = x.reduce((s, v, i) => s + v * folded.weight[o * 3 + i]!, folded.bias[o]!);
    assert.ok(Math.abs(got - want) < 1e-12, `channel ${o}: ${got} vs ${want}`);
  }
  const noBias = foldBatchNorm(w, undefined, 2, { ...bn, eps: 1e-5 });
  assert.ok(Math.abs(noBias.bias[0]! - (-0.05 * 2 / Math.sqrt(4 + 1e-5) + 0.3)) < 1e-12);
});

test('inconsistent batch-norm parameters are refused, naming what is wrong', () => {
  const bn = { gamma: [1, 1], beta: [0, 0], mean: [0, 0], variance: [1, 1] };
  assert.throws(() => foldBatchNorm([1, 2, 3], undefined, 2, bn), /weight has 3 values, not a multiple of 2 channels/);
  assert.throws(() => foldBatchNorm([1, 2], undefined, 2, { ...bn, mean: [0] }), /batch norm "mean" has 1 values for 2 channels/);
  assert.throws(() => foldBatchNorm([1, 2], undefined, 2, { ...bn, variance: [1, -1], eps: 0 }), /variance of channel 1 is -1/);
});

test.run();
