/**
 * 2-D convolution mod 2^64 in NCHW: input [N, C, H, W], weights [O, C/groups, kh, kw] -> [N, O, OH, OW],
 * with stride, zero padding, dilation and groups (depthwise included). Runs as im2col + GEMM on WASM
 * SIMD kernels (a direct kernel for single-input-channel groups), split over threads by output columns.
 * @module
 */
import { aint } from './guards.ts';
import { alloc, copyIn, copyOut, heap, kernels, PARAM_PTR, scoped } from './_wasm.ts';
import { getThreads, runJobs, splitRange, type Job } from './_pool.ts';
import { gemmTiles, narrowOperand, PARALLEL_MACS } from './matmul.ts';
import { RingTensor } from './tensor.ts';

/** Options of conv2d; a number applies to both spatial dimensions. */
export interface Conv2dOptions {
  stride?: number | readonly [number, number];
  /** Zero padding: p, [ph, pw], or [top, left, bottom, right]. */
  padding?: number | readonly [number, number] | readonly [number, number, number, number];
  dilation?: number | readonly [number, number];
  groups?: number;
}

/** Resolved conv geometry (shared with the BigInt reference and later the float engine). */
export interface ConvGeometry {
  N: number; C: number; H: number; W: number;
  O: number; Cg: number; Og: number; groups: number;
  KH: number; KW: number; SH: number; SW: number;
  padTop: number; padLeft: number; padBottom: number; padRight: number;
  DH: number; DW: number; OH: number; OW: number;
}

function pair(v: number | readonly number[] | undefined, dflt: number, title: string, min: number): [number, number] {
  if (v === undefined) return [dflt, dflt];
  if (typeof v === 'number') return [aint(v, title, min), aint(v, title, min)];
  if (v.length !== 2) throw new RangeError(`"${title}" expected a number or [h, w], got [${v.join(',')}]`);
  return [aint(v[0], `${title}[0]`, min), aint(v[1], `${title}[1]`, min)];
}

/**
 * Validates shapes and options and computes the output size.
 * @throws {RangeError} naming the offending argument
 */
export function convGeometry(xShape: readonly number[], wShape: readonly number[], opts: Conv2dOptions = {}): ConvGeometry {
  if (xShape.length !== 4) throw new RangeError(`"x" expected shape [N,C,H,W], got [${xShape.join(',')}]`);
  if (wShape.length !== 4) throw new RangeError(`"w" expected shape [O,C/groups,kh,kw], got [${wShape.join(',')}]`);
  const [N, C, H, W] = xShape as [number, number, number, number];
  const [O, Cg, KH, KW] = wShape as [number, number, number, number];
  const groups = aint(opts.groups ?? 1, 'groups', 1);
  if (C % groups !== 0 || O % groups !== 0)
    throw new RangeError(`"groups" = ${groups} must divide the input channels (${C}) and output channels (${O})`);
  if (Cg !== C / groups)
    throw new RangeError(`"w" expected shape [${O},${C / groups},${KH},${KW}] for ${C} input channels in ${groups} groups, got [${wShape.join(',')}]`);
  if (KH < 1 || KW < 1) throw new RangeError(`"w" kernel must be at least 1x1, got ${KH}x${KW}`);
  const [SH, SW] = pair(opts.stride, 1, 'stride', 1);
  const [DH, DW] = pair(opts.dilation, 1, 'dilation', 1);
  let padTop = 0, padLeft = 0, padBottom = 0, padRight = 0;
  const p = opts.padding;
  if (typeof p === 'number') padTop = padLeft = padBottom = padRight = aint(p, 'padding');
  else if (p !== undefined && p.length === 2) {
    padTop = padBottom = aint(p[0], 'padding[0]');
    padLeft = padRight = aint(p[1], 'padding[1]');
  } else if (p !== undefined && p.length === 4) {
    [padTop, padLeft, padBottom, padRight] = p.map((v, i) => aint(v, `padding[${i}]`)) as [number, number, number, number];
  } else if (p !== undefined) throw new RangeError(`"padding" expected p, [ph, pw] or [top, left, bottom, right]`);
  const spanH = H + padTop + padBottom - DH * (KH - 1), spanW = W + padLeft + padRight - DW * (KW - 1);
  if (spanH < 1 || spanW < 1)
    throw new RangeError(`"x" spatial size ${H}x${W} (padded ${H + padTop + padBottom}x${W + padLeft + padRight}) is smaller than the dilated kernel ${DH * (KH - 1) + 1}x${DW * (KW - 1) + 1}`);
  const OH = Math.floor((spanH - 1) / SH) + 1, OW = Math.floor((spanW - 1) / SW) + 1;
  return { N, C, H, W, O, Cg, Og: O / groups, groups, KH, KW, SH, SW, padTop, padLeft, padBottom, padRight, DH, DW, OH, OW };
}

function writeParams(g: ConvGeometry, group: number): number {
  const v = [g.N, g.C, g.H, g.W, group * g.Cg, g.Cg, g.KH, g.KW, g.SH, g.SW, g.padTop, g.padLeft, g.DH, g.DW, g.OH, g.OW, g.O, g.Og, group * g.Og];
  heap().i32.set(v, PARAM_PTR / 4);
  return PARAM_PTR;
}

/**
 * Convolution mod 2^64 (cross-correlation, as in every CNN framework).
 * @param x - input [N, C, H, W]
 * @param w - weights [O, C/groups, kh, kw]
 * @returns [N, O, OH, OW]
 * @throws {RangeError} on inconsistent shapes or options, naming the argument
 * @example conv2d(x, w, { stride: 2, padding: 1 })
 */
export function conv2d(x: RingTensor, w: RingTensor, opts: Conv2dOptions = {}): RingTensor {
  const g = convGeometry(x.shape, w.shape, opts);
  const P = g.OH * g.OW, K = g.Cg * g.KH * g.KW;
  const outShape = [g.N, g.O, g.OH, g.OW];
  const out = new BigInt64Array(g.N * g.O * P);
  if (out.length === 0) return new RingTensor(out, outShape);
  scoped(() => {
    const px = copyIn(x.data), pw = copyIn(w.data), po = alloc(out.length * 8);
    if (g.Cg === 1) {
      const prm = writeParams(g, 0);
      const planes = g.N * g.O;
      const t = out.length * K < PARALLEL_MACS ? 1 : getThreads();
      runJobs(splitRange(planes, t).map(([r0, r1]): Job => ['convDepthwiseRange', po, px, pw, prm, r0, r1]));
    } else {
      const tiles = gemmTiles(Math.ceil(g.Og / 4), Math.ceil((g.N * P) / 4), g.Og * g.N * P * K);
      const KC = kernels.blockDepth(K, g.KH * g.KW);
      const scratch = tiles.map(([b0, b1]) => alloc(kernels.jobScratchBytes(KC, b1 - b0)));
      const narrow = narrowOperand(pw, w.size) ? 1 : 0;
      for (let gi = 0; gi < g.groups; gi++) {
        const prm = writeParams(g, gi);
        const wg = pw + gi * g.Og * K * 8;
        runJobs(tiles.map(([b0, b1, q0, q1], t): Job => ['convJob', wg, px, prm, po, b0, b1, q0, q1, scratch[t]!, narrow]));
      }
    }
    copyOut(out, po);
  });
  return new RingTensor(out, outShape);
}
