/**
 * resize: bilinear (half-pixel centres, align_corners false, as PyTorch and ONNX) or nearest resize of
 * each map. Fixed point: nearest is a gather (exact, local on shares); bilinear from a 1x1 map is a
 * broadcast (exact); other bilinear resizes are not supported in secure inference yet.
 * @module
 */

import type { BufferPool } from '../float/pool.ts';
import { defineOp } from './op.ts';
import { registerOp } from './table.ts';

declare module '../graph.ts' {
  interface OpTypes {
    resize: { size: [number, number]; mode: 'bilinear' | 'nearest' };
  }
}

interface Tap {
  i0: number; i1: number; w0: number; w1: number;
}

function taps(inN: number, outN: number, mode: 'bilinear' | 'nearest'): Tap[] {
  const scale = inN / outN;
  return Array.from({ length: outN }, (_, o) => {
    if (mode === 'nearest') {
      const i = Math.min(inN - 1, Math.floor(o * scale));
      return { i0: i, i1: i, w0: 1, w1: 0 };
    }
    const src = Math.max(0, (o + 0.5) * scale - 0.5);
    const i0 = Math.min(inN - 1, Math.floor(src)), i1 = Math.min(inN - 1, i0 + 1);
    const t = src - i0;
    return { i0, i1, w0: 1 - t, w1: t };
  });
}

function resizeForward(P: BufferPool, x: Float32Array, planes: number, H: number, W: number, OH: number, OW: number, mode: 'bilinear' | 'nearest'): Float32Array {
  const th = taps(H, OH, mode), tw = taps(W, OW, mode);
  const y = P.f32(planes * OH * OW);
  for (let pl = 0; pl < planes; pl++) {
    const xb = pl * H * W, yb = pl * OH * OW;
    for (let oh = 0; oh < OH; oh++) {
      const a = th[oh]!;
      for (let ow = 0; ow < OW; ow++) {
        const b = tw[ow]!;
        y[yb + oh * OW + ow] =
          a.w0 * (b.w0 * x[xb + a.i0 * W + b.i0]! + b.w1 * x[xb + a.i0 * W + b.i1]!) + a.w1 * (b.w0 * x[xb + a.i1 * W + b.i0]! + b.w1 * x[xb + a.i1 * W + b.i1]!);
      }
    }
  }
  return y;
}

function resizeBackward(P: BufferPool, dy: Float32Array, planes: number, H: number, W: number, OH: number, OW: number, mode: 'bilinear' | 'nearest'): Float32Array {
  const th = taps(H, OH, mode), tw = taps(W, OW, mode);
  const dx = P.f32(planes * H * W, true);
  for (let pl = 0; pl < planes; pl++) {
    const xb = pl * H * W, yb = pl * OH * OW;
    for (let oh = 0; oh < OH; oh++) {
      const a = th[oh]!;
      for (let ow = 0; ow < OW; ow++) {
        const b = tw[ow]!, g = dy[yb + oh * OW + ow]!;
        dx[xb + a.i0 * W + b.i0]! += a.w0 * b.w0 * g;
        dx[xb + a.i0 * W + b.i1]! += a.w0 * b.w1 * g;
        dx[xb + a.i1 * W + b.i0]! += a.w1 * b.w0 * g;
        dx[xb + a.i1 * W + b.i1]! += a.w1 * b.w1 * g;
      }
    }
  }
  return dx;
}

/** Source index of every output element of a nearest resize (a 1x1 map: a broadcast) of [N*C] planes. */
function nearestIndex(planes: number, H: number, W: number, OH: number, OW: number): Int32Array {
  const idx = new Int32Array(planes * OH * OW);
  let k = 0;
  for (let pl = 0; pl < planes; pl++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++) idx[k++] = (pl * H + Math.min(H - 1, Math.floor((oh * H) / OH))) * W + Math.min(W - 1, Math.floor((ow * W) / OW));
  return idx;
}

export const resize = registerOp(defineOp({
  op: 'resize',
  shape: (a, [x]) => [x![0]!, a.size[0], a.size[1]],
  refuse(n, graph) {
    const [, H, W] = graph.node(n.inputs[0]!).shape as [number, number, number];
    return n.mode === 'bilinear' && !(H === 1 && W === 1) ? `node "${n.name}": bilinear resize is only supported from a 1x1 map (a broadcast) in secure inference` : null;
  },
  forward(c, n, [x]) {
    const [C, H, W] = c.graph.node(n.inputs[0]!).shape as [number, number, number];
    return { y: resizeForward(c.pool, x!, c.N * C, H, W, n.size[0], n.size[1], n.mode) };
  },
  backward(c, n, dy) {
    const [C, H, W] = c.graph.node(n.inputs[0]!).shape as [number, number, number];
    return { dx: [resizeBackward(c.pool, dy, c.N * C, H, W, n.size[0], n.size[1], n.mode)] };
  },
  ring(be, n, [x]) {
    const [N, C, H, W] = be.shape(x!) as [number, number, number, number];
    if (n.mode === 'bilinear' && !(H === 1 && W === 1)) throw new Error(`node "${n.name}": bilinear resize from ${H}x${W} is not supported on ring backends`);
    const shape = [N, C, n.size[0], n.size[1]];
    const idx = nearestIndex(N * C, H, W, n.size[0], n.size[1]);
    return be.local([x!], ([r]) => r!.gather(idx, shape), shape);
  },
}));

