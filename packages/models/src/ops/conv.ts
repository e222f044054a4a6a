/**
 * conv: 2D convolution (optionally grouped, dilated, strided, asymmetrically padded, with bias).
 * Float: @si/ring's float32 kernels. Fixed point: the weights (with a batch norm that follows folded in)
 * at f bits; the product has 2f fractional bits, so it is truncated by f and the bias (at f bits) added.
 * Secure: the server-known-weights protocol of @si/sharing (linearKnown).
 * @module
 */
import { conv2dBackwardF32, conv2dF32, encodeFixed, type Conv2dOptions, shapeSize } from '@si/ring';
import { convOp } from '@si/sharing';
import { GraphError, type NodeOf, type Shape } from '../graph.ts';
import { foldBatchNorm } from './batchnorm.ts';
import { defineOp } from './op.ts';
import { registerOp } from './table.ts';

export interface ConvAttrs {
  out: number;
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number, number, number]; // top, left, bottom, right
  dilation: [number, number];
  groups: number;
  bias: boolean;
}

declare module '../graph.ts' {
  interface OpTypes {
    conv: ConvAttrs;
  }
}

const opts = (a: ConvAttrs): Conv2dOptions => ({ stride: a.stride, padding: a.padding, dilation: a.dilation, groups: a.groups });
const wShape = (n: NodeOf<'conv'>, x: Shape): number[] => [n.out, x[0]! / n.groups, ...n.kernel];

export const conv = registerOp(defineOp({
  op: 'conv',
  shape(a, [x], name) {
    const [C, H, W] = x as [number, number, number];
    if (C % a.groups !== 0 || a.out % a.groups !== 0) throw new GraphError(`${name}: groups ${a.groups} must divide ${C} input and ${a.out} output channels`);
    const OH = Math.floor((H + a.padding[0] + a.padding[2] - a.dilation[0] * (a.kernel[0] - 1) - 1) / a.stride[0]) + 1;
    const OW = Math.floor((W + a.padding[1] + a.padding[3] - a.dilation[1] * (a.kernel[1] - 1) - 1) / a.stride[1]) + 1;
    if (OH < 1 || OW < 1) throw new GraphError(`${name}: input ${H}x${W} is too small for the kernel`);
    return [a.out, OH, OW];
  },
  params: (n, [x]) => [
    { name: `${n.name}.weight`, shape: wShape(n, x!), kind: 'weight' },
    ...(n.bias ? [{ name: `${n.name}.bias`, shape: [n.out], kind: 'bias' as const }] : []),
  ],
  weights: (n, [x]) => ({ op: convOp(opts(n)), shape: wShape(n, x!) }),
  compile(n, c) {
    let w: Float64Array = Float64Array.from(c.param(`${n.name}.weight`));
    let b: Float64Array = n.bias ? Float64Array.from(c.param(`${n.name}.bias`)) : new Float64Array(n.out);
    const next = c.graph.consumers(n.name);
    const bn = next.length === 1 && next[0]!.op === 'batchnorm' ? next[0]! : null;
    if (bn) {
      ({ weight: w, bias: b } = foldBatchNorm(w, b, n.out, {
        gamma: c.param(`${bn.name}.weight`), beta: c.param(`${bn.name}.bias`), mean: c.param(`${bn.name}.running_mean`), variance: c.param(`${bn.name}.running_var`), eps: bn.eps,
      }));
      c.folded.add(bn.name);
    }
    c.layers.set(n.name, { weight: encodeFixed(w, c.f, [n.out, w.length / n.out / (n.kernel[0] * n.kernel[1]), ...n.kernel]), bias: encodeFixed(b, c.f) });
  },
  forward(c, n, [x]) {
    const xs = c.graph.node(n.inputs[0]!).shape;
    const y = c.pool.f32(c.N * shapeSize(n.shape));
    return { y: conv2dF32(x!, [c.N, ...xs], c.param(`${n.name}.weight`), wShape(n, xs), opts(n), n.bias ? c.param(`${n.name}.bias`) : undefined, y).y };
  },
  backward(c, n, dy, _cache, xs, [needDx]) {
    const inShape = c.graph.node(n.inputs[0]!).shape;
    const w = c.param(`${n.name}.weight`), x = xs()[0]!;
    const r = conv2dBackwardF32(dy, x, [c.N, ...inShape], w, wShape(n, inShape), opts(n), !!needDx, { dx: needDx ? c.pool.f32(x.length) : undefined, dw: c.pool.f32(w.length) });
    const grads: [string, Float32Array][] = [[`${n.name}.weight`, r.dw]];
    if (n.bias) grads.push([`${n.name}.bias`, sumPerChannel(c.pool.f32(n.out, true), dy, c.N, n.out)]);
    return { dx: [r.dx], grads };
  },
  async ring(be, n, [x]) {
    const y = await be.linear(n, x!, convOp(opts(n)), [be.shape(x!)[0]!, ...n.shape]);
    return be.bias(n, be.truncate(y, be.f));
  },
}));

/** acc[o] += sum of dy over the batch and the map of channel o (a bias gradient). */
function sumPerChannel(acc: Float32Array, dy: Float32Array, N: number, O: number): Float32Array {
  const HW = dy.length / (N * O);
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++) {
      let s = 0;
      const base = (n * O + o) * HW;
      for (let p = 0; p < HW; p++) s += dy[base + p]!;
      acc[o]! += s;
    }
  return acc;
}
