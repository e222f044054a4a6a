/**
 * linear: y = x W^T + b on flat [N, F] inputs (W: [out, in] as PyTorch stores it). Fixed point: W
 * transposed to [in, out] for x W and encoded at f bits; the product is truncated by f and the bias
 * added. Secure: the server-known-weights protocol (linearKnown) with a matrix product.
 * @module
 */
import { encodeFixed, sgemm } from '@si/ring';
import { matmulOp } from '@si/sharing';
import { GraphError } from '../graph.ts';
import { defineOp } from './op.ts';
import { registerOp } from './table.ts';

declare module '../graph.ts' {
  interface OpTypes {
    linear: { out: number; bias: boolean };
  }
}

export const linear = registerOp(defineOp({
  op: 'linear',
  shape(a, [x], name) {
    if (x!.length !== 1) throw new GraphError(`${name}: linear needs a flat input, got [${x}]`);
    return [a.out];
  },
  params: (n, [x]) => [
    { name: `${n.name}.weight`, shape: [n.out, x![0]!], kind: 'weight' },
    ...(n.bias ? [{ name: `${n.name}.bias`, shape: [n.out], kind: 'bias' as const }] : []),
  ],
  weights: (n, [x]) => ({ op: matmulOp, shape: [x![0]!, n.out] }),
  compile(n, c) {
    const w = c.param(`${n.name}.weight`); // [out, in]
    const I = w.length / n.out;
    const wt = new Float64Array(w.length);
    for (let o = 0; o < n.out; o++) for (let i = 0; i < I; i++) wt[i * n.out + o] = w[o * I + i]!;
    c.layers.set(n.name, { weight: encodeFixed(wt, c.f, [I, n.out]), bias: n.bias ? encodeFixed(c.param(`${n.name}.bias`), c.f) : null });
  },
  forward(c, n, [x]) {
    const I = x!.length / c.N, O = n.out;
    const y = sgemm(x!, c.param(`${n.name}.weight`), c.N, O, I, { transB: true, out: c.pool.f32(c.N * O) });
    if (n.bias) {
      const b = c.param(`${n.name}.bias`);
      for (let i = 0; i < c.N; i++) for (let o = 0; o < O; o++) y[i * O + o]! += b[o]!;
    }
    return { y };
  },
  backward(c, n, dy, _cache, xs) {
    const x = xs()[0]!, I = x.length / c.N, O = n.out, w = c.param(`${n.name}.weight`);
    const dx = sgemm(dy, w, c.N, I, O, { out: c.pool.f32(c.N * I) }); // [N, O] x [O, I]
    const dw = sgemm(dy, x, O, I, c.N, { transA: true, out: c.pool.f32(O * I) }); // [O, N] x [N, I]
    const grads: [string, Float32Array][] = [[`${n.name}.weight`, dw]];
    if (n.bias) {
      const db = c.pool.f32(O, true);
      for (let i = 0; i < c.N; i++) for (let o = 0; o < O; o++) db[o]! += dy[i * O + o]!;
      grads.push([`${n.name}.bias`, db]);
    }
    return { dx: [dx], grads };
  },
  async ring(be, n, [x]) {
    const y = await be.linear(n, x!, matmulOp, [be.shape(x!)[0]!, n.out]);
    return be.bias(n, be.truncate(y, be.f));
  },
}));
