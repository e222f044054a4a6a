/**
 * Float32 forward and backward of each node kind. Tensors are NCHW (or [N, F]) Float32Arrays; `N` is the
 * batch. Convolutions and products run on @si/ring's WebAssembly kernels; the rest are plain loops over
 * typed arrays.
 * @module
 */
import { conv2dBackwardF32, conv2dF32, sgemm, type Conv2dOptions } from '@si/ring';
import type { ConvAttrs } from '../graph.ts';
import type { BufferPool } from './pool.ts';

export const convOpts = (a: ConvAttrs): Conv2dOptions => ({ stride: a.stride, padding: a.padding, dilation: a.dilation, groups: a.groups });

export function convForward(P: BufferPool, x: Float32Array, xs: number[], w: Float32Array, ws: number[], a: ConvAttrs, outSize: number, bias?: Float32Array): Float32Array {
  return conv2dF32(x, xs, w, ws, convOpts(a), bias, P.f32(outSize)).y;
}

export function convBackward(P: BufferPool, dy: Float32Array, x: Float32Array, xs: number[], w: Float32Array, ws: number[], a: ConvAttrs, needDx: boolean, hasBias: boolean): { dx: Float32Array | null; dw: Float32Array; db: Float32Array | null } {
  const { dx, dw } = conv2dBackwardF32(dy, x, xs, w, ws, convOpts(a), needDx, { dx: needDx ? P.f32(x.length) : undefined, dw: P.f32(w.length) });
  let db: Float32Array | null = null;
  if (hasBias) {
    const [N] = xs as [number];
    const O = ws[0]!, HW = dy.length / (N * O);
    const acc = P.f32(O, true);
    for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) {
      let s = 0;
      const base = (n * O + o) * HW;
      for (let p = 0; p < HW; p++) s += dy[base + p]!;
      acc[o]! += s;
    }
    db = acc;
  }
  return { dx, dw, db };
}

export interface BnCache {
  xhat: Float32Array;
  invStd: Float32Array;
}

/** Batch norm over (N, H, W) per channel; in training uses and updates batch statistics. */
export function bnForward(
  P_: BufferPool, x: Float32Array, N: number, C: number, P: number, gamma: Float32Array, beta: Float32Array, mean: Float32Array, variance: Float32Array,
  eps: number, momentum: number, training: boolean,
): { y: Float32Array; cache: BnCache | null } {
  const y = P_.f32(x.length);
  const invStd = P_.f32(C);
  const xhat = training ? P_.f32(x.length) : null;
  const M = N * P;
  for (let c = 0; c < C; c++) {
    let mu: number, v: number;
    if (training) {
      let s = 0, s2 = 0;
      for (let n = 0; n < N; n++) {
        const base = (n * C + c) * P;
        for (let p = 0; p < P; p++) {
          const t = x[base + p]!;
          s += t;
          s2 += t * t;
        }
      }
      mu = s / M;
      v = Math.max(0, s2 / M - mu * mu);
      mean[c] = (1 - momentum) * mean[c]! + momentum * mu;
      variance[c] = (1 - momentum) * variance[c]! + momentum * (M > 1 ? (v * M) / (M - 1) : v);
    } else {
      mu = mean[c]!;
      v = variance[c]!;
    }
    const is = 1 / Math.sqrt(v + eps);
    invStd[c] = is;
    const g = gamma[c]!, b = beta[c]!;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * P;
      for (let p = 0; p < P; p++) {
        const h = (x[base + p]! - mu) * is;
        if (xhat) xhat[base + p] = h;
        y[base + p] = g * h + b;
      }
    }
  }
  return { y, cache: xhat ? { xhat, invStd } : null };
}

export function bnBackward(P_: BufferPool, dy: Float32Array, cache: BnCache, N: number, C: number, P: number, gamma: Float32Array): { dx: Float32Array; dgamma: Float32Array; dbeta: Float32Array } {
  const dx = P_.f32(dy.length), dgamma = P_.f32(C), dbeta = P_.f32(C);
  const M = N * P;
  for (let c = 0; c < C; c++) {
    let sdy = 0, sdyx = 0;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * P;
      for (let p = 0; p < P; p++) {
        sdy += dy[base + p]!;
        sdyx += dy[base + p]! * cache.xhat[base + p]!;
      }
    }
    dgamma[c] = sdyx;
    dbeta[c] = sdy;
    const k = (gamma[c]! * cache.invStd[c]!) / M;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * P;
      for (let p = 0; p < P; p++) dx[base + p] = k * (M * dy[base + p]! - sdy - cache.xhat[base + p]! * sdyx);
    }
  }
  return { dx, dgamma, dbeta };
}

/** ReLU (cap = Infinity) or ReLU6 (cap = 6); the mask marks where the gradient passes. */
export function reluForward(P: BufferPool, x: Float32Array, cap: number): { y: Float32Array; mask: Uint8Array } {
  const y = P.f32(x.length), mask = P.u8(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    const pass = v > 0 && v < cap;
    mask[i] = pass ? 1 : 0;
    y[i] = pass ? v : v > 0 ? cap : 0;
  }
  return { y, mask };
}

export function maskBackward(P: BufferPool, dy: Float32Array, mask: Uint8Array): Float32Array {
  const dx = P.f32(dy.length);
  for (let i = 0; i < dy.length; i++) dx[i] = mask[i] ? dy[i]! : 0;
  return dx;
}

export interface PoolGeom {
  N: number; C: number; H: number; W: number; OH: number; OW: number; k: number; s: number; p: number;
}

export function avgPoolForward(P: BufferPool, x: Float32Array, g: PoolGeom, includePad: boolean): Float32Array {
  const y = P.f32(g.N * g.C * g.OH * g.OW);
  for (let nc = 0; nc < g.N * g.C; nc++)
    for (let oh = 0; oh < g.OH; oh++)
      for (let ow = 0; ow < g.OW; ow++) {
        let s = 0, cnt = 0;
        for (let i = 0; i < g.k; i++) for (let j = 0; j < g.k; j++) {
          const h = oh * g.s - g.p + i, w = ow * g.s - g.p + j;
          if (h < 0 || h >= g.H || w < 0 || w >= g.W) continue;
          s += x[(nc * g.H + h) * g.W + w]!;
          cnt++;
        }
        y[(nc * g.OH + oh) * g.OW + ow] = s / (includePad ? g.k * g.k : cnt);
      }
  return y;
}

export function avgPoolBackward(P: BufferPool, dy: Float32Array, g: PoolGeom, includePad: boolean): Float32Array {
  const dx = P.f32(g.N * g.C * g.H * g.W, true);
  for (let nc = 0; nc < g.N * g.C; nc++)
    for (let oh = 0; oh < g.OH; oh++)
      for (let ow = 0; ow < g.OW; ow++) {
        let cnt = 0;
        if (!includePad) for (let i = 0; i < g.k; i++) for (let j = 0; j < g.k; j++) {
          const h = oh * g.s - g.p + i, w = ow * g.s - g.p + j;
          if (h >= 0 && h < g.H && w >= 0 && w < g.W) cnt++;
        }
        const v = dy[(nc * g.OH + oh) * g.OW + ow]! / (includePad ? g.k * g.k : cnt);
        for (let i = 0; i < g.k; i++) for (let j = 0; j < g.k; j++) {
          const h = oh * g.s - g.p + i, w = ow * g.s - g.p + j;
          if (h >= 0 && h < g.H && w >= 0 && w < g.W) dx[(nc * g.H + h) * g.W + w]! += v;
        }
      }
  return dx;
}

export function maxPoolForward(P: BufferPool, x: Float32Array, g: PoolGeom): { y: Float32Array; arg: Int32Array } {
  const n = g.N * g.C * g.OH * g.OW;
  const y = P.f32(n), arg = P.i32(n);
  for (let nc = 0; nc < g.N * g.C; nc++)
    for (let oh = 0; oh < g.OH; oh++)
      for (let ow = 0; ow < g.OW; ow++) {
        let best = -Infinity, at = -1;
        for (let i = 0; i < g.k; i++) for (let j = 0; j < g.k; j++) {
          const h = oh * g.s - g.p + i, w = ow * g.s - g.p + j;
          if (h < 0 || h >= g.H || w < 0 || w >= g.W) continue;
          const idx = (nc * g.H + h) * g.W + w;
          if (x[idx]! > best) (best = x[idx]!, (at = idx));
        }
        const o = (nc * g.OH + oh) * g.OW + ow;
        y[o] = best;
        arg[o] = at;
      }
  return { y, arg };
}

export function maxPoolBackward(P: BufferPool, dy: Float32Array, arg: Int32Array, inSize: number): Float32Array {
  const dx = P.f32(inSize, true);
  for (let o = 0; o < dy.length; o++) if (arg[o]! >= 0) dx[arg[o]!]! += dy[o]!;
  return dx;
}

/** y = x W^T + b for x [N, I], W [O, I]. */
export function linearForward(P: BufferPool, x: Float32Array, N: number, I: number, w: Float32Array, O: number, b?: Float32Array): Float32Array {
  const y = sgemm(x, w, N, O, I, { transB: true, out: P.f32(N * O) });
  if (b) for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) y[n * O + o]! += b[o]!;
  return y;
}

export function linearBackward(P: BufferPool, dy: Float32Array, x: Float32Array, N: number, I: number, w: Float32Array, O: number, hasBias: boolean): { dx: Float32Array; dw: Float32Array; db: Float32Array | null } {
  const dx = sgemm(dy, w, N, I, O, { out: P.f32(N * I) }); // [N, O] x [O, I]
  const dw = sgemm(dy, x, O, I, N, { transA: true, out: P.f32(O * I) }); // [O, N] x [N, I]
  let db: Float32Array | null = null;
  if (hasBias) {
    db = P.f32(O, true);
    for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) db[o]! += dy[n * O + o]!;
  }
  return { dx, dw, db };
}

/** Bilinear (align_corners = false, as PyTorch's default) or nearest resize of [N*C, H, W] planes. */
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

export function resizeForward(P: BufferPool, x: Float32Array, planes: number, H: number, W: number, OH: number, OW: number, mode: 'bilinear' | 'nearest'): Float32Array {
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

export function resizeBackward(P: BufferPool, dy: Float32Array, planes: number, H: number, W: number, OH: number, OW: number, mode: 'bilinear' | 'nearest'): Float32Array {
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
