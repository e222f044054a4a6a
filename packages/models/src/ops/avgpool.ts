/**
 * avgpool: average pooling (k x k, stride, symmetric padding; padded taps count or not). Fixed point: the
 * window sums (a depthwise convolution with ones, local on shares) times public factors round(2^f / count),
 * truncated by f.
 * @module
 */
import { conv2d, RingTensor } from '@si/ring';
import { GraphError } from '../graph.ts';
import type { BufferPool } from '../float/pool.ts';
import { defineOp } from './op.ts';
import { registerOp } from './table.ts';

declare module '../graph.ts' {
  interface OpTypes {
    avgpool: { kernel: number; stride: number; padding: number; countIncludePad: boolean };
  }
}

/** Public multiplier for averaging `count` values at f bits: round(2^f / count). */
export const averagingFactor = (f: number, count: number): number => Math.round(2 ** f / count);

/** Geometry of a k x k pooling window over [N*C] planes. */
export interface PoolGeom {
  N: number; C: number; H: number; W: number; OH: number; OW: number; k: number; s: number; p: number;
}

/** Output size of k x k pooling with stride s and padding p; throws when the map is too small. */
export function poolShape(name: string, [C, H, W]: readonly number[], k: number, s: number, p: number): number[] {
  const OH = Math.floor((H! + 2 * p - k) / s) + 1, OW = Math.floor((W! + 2 * p - k) / s) + 1;
  if (OH < 1 || OW < 1) throw new GraphError(`${name}: input ${H}x${W} is too small for pooling ${k}`);
  return [C!, OH, OW];
}

export function poolGeom(N: number, inShape: readonly number[], outShape: readonly number[], k: number, s: number, p: number): PoolGeom {
  const [C, H, W] = inShape as [number, number, number];
  return { N, C, H, W, OH: outShape[1]!, OW: outShape[2]!, k, s, p };
}

/** Visits the in-bounds taps of output (nc, oh, ow): fn(input index). */
function taps(g: PoolGeom, nc: number, oh: number, ow: number, fn: (at: number) => void): void {
  for (let i = 0; i < g.k; i++)
    for (let j = 0; j < g.k; j++) {
      const h = oh * g.s - g.p + i, w = ow * g.s - g.p + j;
      if (h >= 0 && h < g.H && w >= 0 && w < g.W) fn((nc * g.H + h) * g.W + w);
    }
}

function avgPoolForward(P: BufferPool, x: Float32Array, g: PoolGeom, includePad: boolean): Float32Array {
  const y = P.f32(g.N * g.C * g.OH * g.OW);
  for (let nc = 0; nc < g.N * g.C; nc++)
    for (let oh = 0; oh < g.OH; oh++)
      for (let ow = 0; ow < g.OW; ow++) {
        let s = 0, cnt = 0;
        taps(g, nc, oh, ow, (at) => ((s += x[at]!), cnt++));
        y[(nc * g.OH + oh) * g.OW + ow] = s / (includePad ? g.k * g.k : cnt);
      }
  return y;
}

function avgPoolBackward(P: BufferPool, dy: Float32Array, g: PoolGeom, includePad: boolean): Float32Array {
  const dx = P.f32(g.N * g.C * g.H * g.W, true);
  for (let nc = 0; nc < g.N * g.C; nc++)
    for (let oh = 0; oh < g.OH; oh++)
      for (let ow = 0; ow < g.OW; ow++) {
        let cnt = 0;
        if (!includePad) taps(g, nc, oh, ow, () => cnt++);
        const v = dy[(nc * g.OH + oh) * g.OW + ow]! / (includePad ? g.k * g.k : cnt);
        taps(g, nc, oh, ow, (at) => (dx[at]! += v));
      }
  return dx;
}

const ones = new Map<string, RingTensor>();
function onesKernel(C: number, k: number): RingTensor {
  const key = `${C}x${k}`;
  let t = ones.get(key);
  if (!t) ones.set(key, (t = RingTensor.from(new Array(C * k * k).fill(1), [C, 1, k, k])));
  return t;
}

/** Per-output averaging factors for one image (uniform when padding counts). */
function factors(n: { kernel: number; stride: number; padding: number; countIncludePad: boolean; shape: readonly number[] }, H: number, W: number, f: number): RingTensor | bigint {
  if (n.countIncludePad) return BigInt(averagingFactor(f, n.kernel * n.kernel));
  const [, OH, OW] = n.shape as [number, number, number];
  const vals: number[] = [];
  for (let oh = 0; oh < OH; oh++)
    for (let ow = 0; ow < OW; ow++) {
      const h0 = oh * n.stride - n.padding, w0 = ow * n.stride - n.padding;
      const h = Math.min(H, h0 + n.kernel) - Math.max(0, h0), w = Math.min(W, w0 + n.kernel) - Math.max(0, w0);
      vals.push(averagingFactor(f, h * w));
    }
  return RingTensor.from(vals, [OH * OW]);
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
  shape: (a, [x], name) => poolShape(name, x!, a.kernel, a.stride, a.padding),
  forward: (c, n, [x]) => ({ y: avgPoolForward(c.pool, x!, poolGeom(c.N, c.graph.node(n.inputs[0]!).shape, n.shape, n.kernel, n.stride, n.padding), n.countIncludePad) }),
  backward: (c, n, dy) => ({ dx: [avgPoolBackward(c.pool, dy, poolGeom(c.N, c.graph.node(n.inputs[0]!).shape, n.shape, n.kernel, n.stride, n.padding), n.countIncludePad)] }),
  ring(be, n, [x]) {
    const [N, C, H, W] = be.shape(x!) as [number, number, number, number];
    const fs = factors(n, H, W, be.f);
    const shape = [N, ...n.shape];
    const sum = be.local([x!], ([r]) => conv2d(r!, onesKernel(C, n.kernel), { groups: C, stride: n.stride, padding: n.padding }), shape);
    return be.truncate(be.local([sum], ([r]) => scaleBy(r!, fs), shape), be.f);
  },
}));
