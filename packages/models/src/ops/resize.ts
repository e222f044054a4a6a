/**
 * resize: bilinear (half-pixel centres, align_corners false, as PyTorch and ONNX) or nearest resize of
 * each map, from any size to any size. Fixed point: nearest is a gather (exact, local on shares).
 * Bilinear is separable, rows then columns; along an axis output o is (1 - t) x[i0] + t x[i1] with
 * src = max(0, (o + 1/2) in/out - 1/2), i0 = floor(src), i1 = min(i0 + 1, in - 1), t = src - i0. At f bits
 * the weight of i1 is w1 = round(t 2^f) and that of i0 is 2^f - w1 (so a constant map stays constant):
 * x[i0] 2^f + (x[i1] - x[i0]) w1, a public linear map, local on shares, then one truncation by f per axis
 * (local in the secure run: no traffic). An axis whose taps all have weight 0 or equal rows (the same
 * size, or a 1-pixel map broadcast) is a gather with no truncation, exact.
 * @module
 */

import { RingTensor } from '@si/ring';
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

/** Column taps as flat arrays (i0, i1, w0, w1 per output column). */
function columnTaps(W: number, OW: number, mode: 'bilinear' | 'nearest'): { i0: Int32Array; i1: Int32Array; w0: Float32Array; w1: Float32Array } {
  const t = taps(W, OW, mode);
  return { i0: Int32Array.from(t, (a) => a.i0), i1: Int32Array.from(t, (a) => a.i1), w0: Float32Array.from(t, (a) => a.w0), w1: Float32Array.from(t, (a) => a.w1) };
}

/** Separable: every input row resized along W into `row` (H x OW per plane), then rows mixed along H. */
function resizeForward(P: BufferPool, x: Float32Array, planes: number, H: number, W: number, OH: number, OW: number, mode: 'bilinear' | 'nearest'): Float32Array {
  const th = taps(H, OH, mode), tw = columnTaps(W, OW, mode);
  const y = P.f32(planes * OH * OW), rows = P.f32(H * OW);
  for (let pl = 0; pl < planes; pl++) {
    const xb = pl * H * W, yb = pl * OH * OW;
    for (let h = 0; h < H; h++) {
      const xr = xb + h * W, rr = h * OW;
      for (let ow = 0; ow < OW; ow++) rows[rr + ow] = tw.w0[ow]! * x[xr + tw.i0[ow]!]! + tw.w1[ow]! * x[xr + tw.i1[ow]!]!;
    }
    for (let oh = 0; oh < OH; oh++) {
      const a = th[oh]!, r0 = a.i0 * OW, r1 = a.i1 * OW, yr = yb + oh * OW;
      for (let ow = 0; ow < OW; ow++) y[yr + ow] = a.w0 * rows[r0 + ow]! + a.w1 * rows[r1 + ow]!;
    }
  }
  P.release(rows);
  return y;
}

/** The adjoint of resizeForward: dy spread over rows along H, then each row's columns back along W. */
function resizeBackward(P: BufferPool, dy: Float32Array, planes: number, H: number, W: number, OH: number, OW: number, mode: 'bilinear' | 'nearest'): Float32Array {
  const th = taps(H, OH, mode), tw = columnTaps(W, OW, mode);
  const dx = P.f32(planes * H * W, true), rows = P.f32(H * OW);
  for (let pl = 0; pl < planes; pl++) {
    const xb = pl * H * W, yb = pl * OH * OW;
    rows.fill(0);
    for (let oh = 0; oh < OH; oh++) {
      const a = th[oh]!, r0 = a.i0 * OW, r1 = a.i1 * OW, yr = yb + oh * OW;
      for (let ow = 0; ow < OW; ow++) {
        const g = dy[yr + ow]!;
        rows[r0 + ow]! += a.w0 * g;
        rows[r1 + ow]! += a.w1 * g;
      }
    }
    for (let h = 0; h < H; h++) {
      const xr = xb + h * W, rr = h * OW;
      for (let ow = 0; ow < OW; ow++) {
        const g = rows[rr + ow]!;
        dx[xr + tw.i0[ow]!]! += tw.w0[ow]! * g;
        dx[xr + tw.i1[ow]!]! += tw.w1[ow]! * g;
      }
    }
  }
  P.release(rows);
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

/** One axis of a fixed-point bilinear resize: source rows and the weight of i1 at f bits. */
interface FixedTaps {
  i0: Int32Array;
  i1: Int32Array;
  w1: Int32Array;
  /** Every tap a copy (w1 = 0 or i0 = i1): a gather, no truncation. */
  copy: boolean;
}

function fixedTaps(inN: number, outN: number, f: number): FixedTaps {
  const t = taps(inN, outN, 'bilinear');
  const i0 = Int32Array.from(t, (a) => a.i0), i1 = Int32Array.from(t, (a) => a.i1);
  const w1 = Int32Array.from(t, (a) => (a.i0 === a.i1 ? 0 : Math.round(a.w1 * 2 ** f)));
  return { i0, i1, w1, copy: w1.every((w) => w === 0) };
}

/**
 * The resize of [outer, inN, inner] along its middle axis (rows: inner = W; columns: inner = 1) with
 * fixed taps: x[i0] 2^f + (x[i1] - x[i0]) w1, at 2f bits (or the gather of x[i0] when the taps are copies).
 */
function alongAxis(x: RingTensor, outer: number, inN: number, inner: number, tp: FixedTaps, f: number, shape: readonly number[]): RingTensor {
  const outN = tp.i0.length, n = outer * outN * inner;
  const idx0 = new Int32Array(n), idx1 = new Int32Array(n), w = new BigInt64Array(n);
  const ww = new Int32Array(w.buffer); // the weights are below 2^31: low words only, no BigInt per element
  let k = 0;
  for (let a = 0; a < outer; a++)
    for (let o = 0; o < outN; o++) {
      const b0 = (a * inN + tp.i0[o]!) * inner, b1 = (a * inN + tp.i1[o]!) * inner, wo = tp.w1[o]!;
      for (let j = 0; j < inner; j++, k++) {
        idx0[k] = b0 + j;
        idx1[k] = b1 + j;
        ww[2 * k] = wo;
      }
    }
  const x0 = x.gather(idx0, shape);
  if (tp.copy) return x0;
  return x.gather(idx1, shape).subInPlace(x0).mulInPlace(new RingTensor(w, shape)).addInPlace(x0.shl(f));
}

export const resize = registerOp(defineOp({
  op: 'resize',
  shape: (a, [x]) => [x![0]!, a.size[0], a.size[1]],
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
    const [OH, OW] = n.size;
    const shape = [N, C, OH, OW];
    if (n.mode === 'nearest') {
      const idx = nearestIndex(N * C, H, W, OH, OW);
      return be.local([x!], ([r]) => r!.gather(idx, shape), shape);
    }
    // Rows, then columns; each non-copy axis is a public linear map at 2f bits and one truncation.
    const axis = (t: typeof x, tp: FixedTaps, outer: number, inN: number, inner: number, s: number[]) => {
      const y = be.local([t!], ([r]) => alongAxis(r!, outer, inN, inner, tp, be.f, s), s);
      return tp.copy ? y : be.truncate(y, be.f);
    };
    const rows = axis(x, fixedTaps(H, OH, be.f), N * C, H, W, [N, C, OH, W]);
    return axis(rows, fixedTaps(W, OW, be.f), N * C * OH, W, 1, shape);
  },
}));

