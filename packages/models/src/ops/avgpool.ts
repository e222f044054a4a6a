/**
 * avgpool: average pooling (k x k, stride, symmetric padding; padded taps count or not; floor or ceil
 * output size, as PyTorch's avg_pool2d and ONNX's AveragePool). Fixed point: the window sums (a depthwise
 * convolution with ones, local on shares) times public factors round(2^f / count), truncated by f.
 *
 * Windows: output o covers [o s - p, min(o s - p + k, H + p)) (in ceil mode the last one may stop at the
 * far padding), summed over its in-bounds part; the divisor is the whole covered length (padding counted)
 * or its in-bounds part.
 * @module
 */
import { conv2d, RingTensor } from '@si/ring';
import { GraphError } from '../graph.ts';
import type { BufferPool } from '../float/pool.ts';
import { defineOp } from './op.ts';
import { registerOp } from './table.ts';

declare module '../graph.ts' {
  interface OpTypes {
    avgpool: { kernel: number; stride: number; padding: number; countIncludePad: boolean; ceil?: boolean };
  }
}

/** Public multiplier for averaging `count` values at f bits: round(2^f / count). */
export const averagingFactor = (f: number, count: number): number => Math.round(2 ** f / count);

/** Geometry of a k x k pooling window over [N*C] planes. */
export interface PoolGeom {
  N: number; C: number; H: number; W: number; OH: number; OW: number; k: number; s: number; p: number;
}

/** Outputs along a side of n with window k, stride s, padding p (ceil: PyTorch's rule, no window starting in the far padding). */
function outputs(n: number, k: number, s: number, p: number, ceil: boolean): number {
  let o = Math.floor((n + 2 * p - k + (ceil ? s - 1 : 0)) / s) + 1;
  if (ceil && (o - 1) * s >= n + p) o--;
  return o;
}

/** Output size of k x k pooling with stride s and padding p; throws when the map is too small. */
export function poolShape(name: string, [C, H, W]: readonly number[], k: number, s: number, p: number, ceil = false): number[] {
  const OH = outputs(H!, k, s, p, ceil), OW = outputs(W!, k, s, p, ceil);
  if (OH < 1 || OW < 1) throw new GraphError(`${name}: input ${H}x${W} is too small for pooling ${k}`);
  return [C!, OH, OW];
}

/** The window of output o along a side of n: its covered span [a, b) (padding included) and in-bounds part [lo, hi). */
function span(o: number, n: number, k: number, s: number, p: number): { a: number; b: number; lo: number; hi: number } {
  const a = o * s - p, b = Math.min(a + k, n + p);
  return { a, b, lo: Math.max(a, 0), hi: Math.min(b, n) };
}

export function poolGeom(N: number, inShape: readonly number[], outShape: readonly number[], k: number, s: number, p: number): PoolGeom {
  const [C, H, W] = inShape as [number, number, number];
  return { N, C, H, W, OH: outShape[1]!, OW: outShape[2]!, k, s, p };
}

/** Visits every output window: fn(output index within the plane, in-bounds rows and columns, divisor). */
function windows(g: PoolGeom, includePad: boolean, fn: (o: number, h0: number, h1: number, w0: number, w1: number, count: number) => void): void {
  for (let oh = 0; oh < g.OH; oh++) {
    const r = span(oh, g.H, g.k, g.s, g.p);
    for (let ow = 0; ow < g.OW; ow++) {
      const c = span(ow, g.W, g.k, g.s, g.p);
      const count = includePad ? (r.b - r.a) * (c.b - c.a) : (r.hi - r.lo) * (c.hi - c.lo);
      fn(oh * g.OW + ow, r.lo, r.hi, c.lo, c.hi, count);
    }
  }
}

function avgPoolForward(P: BufferPool, x: Float32Array, g: PoolGeom, includePad: boolean): Float32Array {
  const y = P.f32(g.N * g.C * g.OH * g.OW);
  for (let nc = 0; nc < g.N * g.C; nc++)
    windows(g, includePad, (o, h0, h1, w0, w1, count) => {
      let s = 0;
      for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) s += x[(nc * g.H + h) * g.W + w]!;
      y[nc * g.OH * g.OW + o] = s / count;
    });
  return y;
}

function avgPoolBackward(P: BufferPool, dy: Float32Array, g: PoolGeom, includePad: boolean): Float32Array {
  const dx = P.f32(g.N * g.C * g.H * g.W, true);
  for (let nc = 0; nc < g.N * g.C; nc++)
    windows(g, includePad, (o, h0, h1, w0, w1, count) => {
      const v = dy[nc * g.OH * g.OW + o]! / count;
      for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) dx[(nc * g.H + h) * g.W + w]! += v;
    });
  return dx;
}

const ones = new Map<string, RingTensor>();
function onesKernel(C: number, k: number): RingTensor {
  const key = `${C}x${k}`;
  let t = ones.get(key);
  if (!t) ones.set(key, (t = RingTensor.from(new Array(C * k * k).fill(1), [C, 1, k, k])));
  return t;
}

/** Per-output averaging factors round(2^f / count) for one image (a scalar when they are all equal). */
function factors(g: PoolGeom, includePad: boolean, f: number): RingTensor | bigint {
  const vals: number[] = [];
  windows(g, includePad, (_o, _h0, _h1, _w0, _w1, count) => vals.push(averagingFactor(f, count)));
  return vals.every((v) => v === vals[0]) ? BigInt(vals[0]!) : RingTensor.from(vals, [vals.length]);
}

function scaleBy(sum: RingTensor, fs: RingTensor | bigint): RingTensor {
  if (typeof fs === 'bigint') return sum.mulScalar(fs);
  const reps = sum.size / fs.size;
  const full = new BigInt64Array(sum.size);
  for (let r = 0; r < reps; r++) full.set(fs.data, r * fs.size);
  return sum.mul(new RingTensor(full, sum.shape));
}

export const avgpool = registerOp(defineOp({
  op: 'avgpool',
  shape: (a, [x], name) => poolShape(name, x!, a.kernel, a.stride, a.padding, a.ceil),
  forward: (c, n, [x]) => ({ y: avgPoolForward(c.pool, x!, poolGeom(c.N, c.graph.node(n.inputs[0]!).shape, n.shape, n.kernel, n.stride, n.padding), n.countIncludePad) }),
  backward: (c, n, dy) => ({ dx: [avgPoolBackward(c.pool, dy, poolGeom(c.N, c.graph.node(n.inputs[0]!).shape, n.shape, n.kernel, n.stride, n.padding), n.countIncludePad)] }),
  ring(be, n, [x]) {
    const [N, C, H, W] = be.shape(x!) as [number, number, number, number];
    const g = poolGeom(N, [C, H, W], n.shape, n.kernel, n.stride, n.padding);
    const fs = factors(g, n.countIncludePad, be.f);
    const shape = [N, ...n.shape];
    // Window sums by a depthwise convolution with ones; in ceil mode the far side needs extra zero padding.
    const extra = (o: number, len: number) => Math.max(0, (o - 1) * n.stride + n.kernel - len - 2 * n.padding);
    const p = n.padding, padding: [number, number, number, number] = [p, p, p + extra(g.OH, H), p + extra(g.OW, W)];
    const sum = be.local([x!], ([r]) => conv2d(r!, onesKernel(C, n.kernel), { groups: C, stride: n.stride, padding }).slice(2, 0, g.OH).slice(3, 0, g.OW), shape);
    return be.truncate(be.local([sum], ([r]) => scaleBy(r!, fs), shape), be.f);
  },
}));
