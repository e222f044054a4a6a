/**
 * Float32 matrix products and convolutions for the float engine (training and reference inference), on
 * the same WebAssembly SIMD kernels, arena and worker threads as the ring kernels.
 * @module
 */
import { alloc, copyInF32, copyOutF32, heap, kernels, memory, PARAM_PTR, scoped } from './_wasm.ts';
import { getThreads, runJobs, splitRange, type Job } from './_pool.ts';
import { convGeometry, type Conv2dOptions, type ConvGeometry } from './conv.ts';
import { PARALLEL_MACS } from './matmul.ts';

function tiles(rowBlocks: number, panels: number, macs: number): [number, number, number, number][] {
  const t = macs < PARALLEL_MACS ? 1 : getThreads();
  if (t === 1 || rowBlocks === 0 || panels === 0) return [[0, rowBlocks, 0, panels]];
  if (rowBlocks <= panels) return splitRange(panels, t).map(([q0, q1]) => [0, rowBlocks, q0, q1]);
  return splitRange(rowBlocks, t).map(([b0, b1]) => [b0, b1, 0, panels]);
}

/** Runs an sgemm on arena pointers: C (M x N) = op(A) op(B) (+ C when acc). */
function sgemmPtr(a: number, b: number, c: number, M: number, N: number, K: number, transA: boolean, transB: boolean, acc: boolean): void {
  if (M === 0 || N === 0) return;
  if (K === 0) {
    if (!acc) new Float32Array(memory.buffer, c, M * N).fill(0);
    return;
  }
  const lda = transA ? M : K, ldb = transB ? K : N;
  const jobs = tiles(Math.ceil(M / 4), Math.ceil(N / 8), M * N * K).map(([b0, b1, q0, q1]): Job => [
    'sgemmJob', a, b, c, M, N, K, lda, ldb, N, transA ? 1 : 0, transB ? 1 : 0, acc ? 1 : 0, b0, b1, q0, q1, alloc(kernels.sgemmScratchBytes(K, b1 - b0)),
  ]);
  runJobs(jobs);
}

export interface SgemmOptions {
  /** A is given as its transpose (K x M). */
  transA?: boolean;
  /** B is given as its transpose (N x K). */
  transB?: boolean;
  /** Accumulate into this M x N matrix (C += op(A) op(B)) instead of returning a new one. */
  into?: Float32Array;
  /** Write the M x N result here (overwritten) instead of a new array. */
  out?: Float32Array;
}

/**
 * C = op(A) op(B) for float32 row-major matrices, op(A) M x K, op(B) K x N.
 * @example sgemm(a, b, 2, 3, 4) // [2 x 4] x [4 x 3]
 */
export function sgemm(a: Float32Array, b: Float32Array, M: number, N: number, K: number, opts: SgemmOptions = {}): Float32Array {
  if (a.length !== M * K) throw new RangeError(`"a" expected ${M * K} values (${M}x${K}), got ${a.length}`);
  if (b.length !== K * N) throw new RangeError(`"b" expected ${K * N} values (${K}x${N}), got ${b.length}`);
  if (opts.into && opts.into.length !== M * N) throw new RangeError(`"into" expected ${M * N} values, got ${opts.into.length}`);
  if (opts.out && opts.out.length !== M * N) throw new RangeError(`"out" expected ${M * N} values, got ${opts.out.length}`);
  return scoped(() => {
    const pa = copyInF32(a), pb = copyInF32(b);
    const pc = opts.into ? copyInF32(opts.into) : alloc(M * N * 4);
    sgemmPtr(pa, pb, pc, M, N, K, !!opts.transA, !!opts.transB, !!opts.into);
    return copyOutF32(pc, M * N, opts.into ?? opts.out);
  });
}

function params(g: ConvGeometry, group: number): number {
  heap().i32.set([g.N, g.C, g.H, g.W, group * g.Cg, g.Cg, g.KH, g.KW, g.SH, g.SW, g.padTop, g.padLeft, g.DH, g.DW, g.OH, g.OW, g.O, g.Og, group * g.Og], PARAM_PTR / 4);
  return PARAM_PTR;
}

function im2col(col: number, x: number, g: ConvGeometry, group: number): void {
  const prm = params(g, group), K = g.Cg * g.KH * g.KW;
  const t = K * g.N * g.OH * g.OW < 1 << 18 ? 1 : getThreads();
  runJobs(splitRange(K, t).map(([k0, k1]): Job => ['im2colF32', col, x, prm, k0, k1]));
}

/**
 * Group g's channels between the NCHW layout [N, O, P] at `nchw` and the GEMM layout [Og, N*P] at `gemm`
 * (both in the arena), in wasm, split over the threads when large.
 */
function regroup(gemm: number, nchw: number, g: ConvGeometry, group: number, toGemm: boolean): void {
  const P = g.OH * g.OW;
  const t = g.Og * g.N * P < 1 << 18 ? 1 : getThreads();
  runJobs(splitRange(g.Og, t).map(([r0, r1]): Job => ['regroupF32', gemm, nchw, g.N, g.O, P, group * g.Og, g.Og, r0, r1, toGemm ? 1 : 0]));
}

/**
 * Float32 conv2d (NCHW, weights [O, C/groups, kh, kw]) with an optional per-channel bias.
 * @returns the output and its shape [N, O, OH, OW]
 */
export function conv2dF32(
  x: Float32Array, xShape: readonly number[], w: Float32Array, wShape: readonly number[], opts: Conv2dOptions = {}, bias?: Float32Array, out?: Float32Array,
): { y: Float32Array; shape: [number, number, number, number] } {
  const g = convGeometry(xShape, wShape, opts);
  if (x.length !== g.N * g.C * g.H * g.W) throw new RangeError(`"x" has ${x.length} values for shape [${xShape.join(',')}]`);
  if (w.length !== g.O * g.Cg * g.KH * g.KW) throw new RangeError(`"w" has ${w.length} values for shape [${wShape.join(',')}]`);
  if (bias && bias.length !== g.O) throw new RangeError(`"bias" has ${bias.length} values for ${g.O} channels`);
  const P = g.OH * g.OW, K = g.Cg * g.KH * g.KW;
  if (out && out.length !== g.N * g.O * P) throw new RangeError(`"out" expected ${g.N * g.O * P} values, got ${out.length}`);
  const y = out ?? new Float32Array(g.N * g.O * P);
  scoped(() => {
    const px = copyInF32(x), pw = copyInF32(w);
    if (g.Cg === 1 && g.groups > 1) {
      const po = alloc(y.length * 4), prm = params(g, 0);
      const t = y.length * K < PARALLEL_MACS ? 1 : getThreads();
      runJobs(splitRange(g.N * g.O, t).map(([r0, r1]): Job => ['depthwiseF32', po, px, pw, prm, r0, r1]));
      copyOutF32(po, y.length, y);
      return;
    }
    const col = alloc(K * g.N * P * 4), pc = alloc(g.Og * g.N * P * 4);
    const direct = g.groups === 1 && g.N === 1; // the GEMM layout is already NCHW
    const py = direct ? pc : alloc(y.length * 4);
    for (let gi = 0; gi < g.groups; gi++) {
      im2col(col, px, g, gi);
      sgemmPtr(pw + gi * g.Og * K * 4, col, pc, g.Og, g.N * P, K, false, false, false);
      if (!direct) regroup(pc, py, g, gi, false);
    }
    copyOutF32(py, y.length, y);
  });
  if (bias) for (let n = 0; n < g.N; n++) for (let o = 0; o < g.O; o++) {
    const b = bias[o]!, base = (n * g.O + o) * P;
    for (let p = 0; p < P; p++) y[base + p]! += b;
  }
  return { y, shape: [g.N, g.O, g.OH, g.OW] };
}

/**
 * Gradients of conv2dF32: dx (when `needDx`) and dw from dy [N, O, OH, OW]. dw = dY col^T per group,
 * dcol = W^T dY, dx = col2im(dcol).
 */
export function conv2dBackwardF32(
  dy: Float32Array, x: Float32Array, xShape: readonly number[], w: Float32Array, wShape: readonly number[], opts: Conv2dOptions = {}, needDx = true,
  out: { dx?: Float32Array; dw?: Float32Array } = {},
): { dx: Float32Array | null; dw: Float32Array } {
  const g = convGeometry(xShape, wShape, opts);
  const P = g.OH * g.OW, K = g.Cg * g.KH * g.KW;
  if (dy.length !== g.N * g.O * P) throw new RangeError(`"dy" has ${dy.length} values, expected ${g.N * g.O * P}`);
  const dw = out.dw ?? new Float32Array(w.length);
  const dx = needDx ? (out.dx ?? new Float32Array(x.length)) : null;
  if (dw.length !== w.length || (dx && dx.length !== x.length)) throw new RangeError('"out" buffers do not match the shapes');
  scoped(() => {
    const px = copyInF32(x), pw = copyInF32(w), pdy = copyInF32(dy);
    if (g.Cg === 1 && g.groups > 1) {
      const pdx = alloc(x.length * 4), pdw = alloc(w.length * 4), prm = params(g, 0);
      heap().u8.fill(0, pdx, pdx + x.length * 4);
      heap().u8.fill(0, pdw, pdw + w.length * 4);
      const t = dy.length * K < PARALLEL_MACS ? 1 : getThreads();
      runJobs(splitRange(g.groups, t).map(([g0, g1]): Job => ['depthwiseBackwardF32', pdx, pdw, pdy, px, pw, prm, g0, g1]));
      copyOutF32(pdw, w.length, dw);
      if (dx) copyOutF32(pdx, x.length, dx);
      return;
    }
    const col = alloc(K * g.N * P * 4), pg = alloc(g.Og * g.N * P * 4), pdw = alloc(g.Og * K * 4);
    const pdx = dx ? alloc(x.length * 4) : 0;
    if (dx) heap().u8.fill(0, pdx, pdx + x.length * 4);
    for (let gi = 0; gi < g.groups; gi++) {
      if (g.groups === 1 && g.N === 1) heap().u8.copyWithin(pg, pdy, pdy + dy.length * 4);
      else regroup(pg, pdy, g, gi, true);
      im2col(col, px, g, gi);
      // dW_g [Og, K] = dY_g [Og, NP] x col^T [NP, K]
      sgemmPtr(pg, col, pdw, g.Og, K, g.N * P, false, true, false);
      dw.set(new Float32Array(memory.buffer, pdw, g.Og * K), gi * g.Og * K);
      if (dx) {
        // dcol [K, NP] = W_g^T [K, Og] x dY_g [Og, NP], then scattered back onto the input.
        sgemmPtr(pw + gi * g.Og * K * 4, pg, col, K, g.N * P, g.Og, true, false, false);
        const prm = params(g, gi);
        const t = K * g.N * P < 1 << 18 ? 1 : getThreads();
        runJobs(splitRange(g.Cg, t).map(([c0, c1]): Job => ['col2imF32', pdx, col, prm, c0, c1]));
      }
    }
    if (dx) copyOutF32(pdx, x.length, dx);
  });
  return { dx, dw };
}
