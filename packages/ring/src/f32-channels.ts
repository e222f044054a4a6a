/**
 * The float engine's elementwise work on float32 [N, C, P] arrays (P values per map): batch-norm
 * statistics and per-channel affine maps, forward and backward, and ReLU masks. A JS loop over float32
 * arrays costs about 3 ns per value and pass (every value widened to a double and back); these run on the
 * WebAssembly SIMD kernels and the worker threads, copies in and out included.
 * @module
 */
import { alloc, copyInBytes, copyInF32, copyOutF32, heap, memory, scoped } from './_wasm.ts';
import { getThreads, runJobs, splitRange, type Job } from './_pool.ts';

/** Below this many values a kernel runs on the calling thread only. */
const PARALLEL_VALUES = 1 << 16;

function check(what: string, a: { length: number }, n: number): void {
  if (a.length !== n) throw new RangeError(`"${what}" expected ${n} values, got ${a.length}`);
}

const threadsFor = (n: number): number => (n < PARALLEL_VALUES ? 1 : getThreads());

/** Channel ranges, one job each. */
const channelJobs = (C: number, n: number, job: (c0: number, c1: number) => Job): Job[] => splitRange(C, threadsFor(n)).map(([c0, c1]) => job(c0, c1));

/** Element ranges in multiples of 16 (the kernels' step), one job each. */
function rangeJobs(n: number, job: (i0: number, i1: number) => Job): Job[] {
  const blocks = Math.ceil(n / 16);
  return splitRange(blocks, threadsFor(n)).map(([b0, b1]) => job(b0 * 16, Math.min(n, b1 * 16)));
}

function sumsOf(ptr: number, C: number): Float64Array {
  return new Float64Array(memory.buffer, ptr, 2 * C).slice();
}

function coefIn(coef: ArrayLike<number>, C: number, per: number): number {
  if (coef.length !== per * C) throw new RangeError(`expected ${per} coefficients per channel (${per * C}), got ${coef.length}`);
  const p = alloc(16 * C), f = new Float32Array(memory.buffer, p, 4 * C);
  for (let c = 0; c < C; c++) for (let j = 0; j < per; j++) f[4 * c + j] = coef[per * c + j]!;
  return p;
}

/**
 * Per-channel affine map y = x a_c + b_c, and xhat = (x - mu_c) s_c when `xhat` is given. `coef` returns
 * (a, b, mu, s) for every channel (4C values); with `sums` it first receives the channel sums of x and x^2
 * (sum, sumSq interleaved, 2C values, in f64), as batch statistics need.
 * @example channelAffineF32(x, N, C, P, () => coefs, y) // inference-mode batch norm
 * @throws {RangeError} on lengths that do not match N * C * P
 */
export function channelAffineF32(
  x: Float32Array, N: number, C: number, P: number, coef: (sums: Float64Array | null) => ArrayLike<number>, y: Float32Array,
  opts: { xhat?: Float32Array; sums?: boolean } = {},
): void {
  const n = N * C * P;
  check('x', x, n);
  check('y', y, n);
  if (opts.xhat) check('xhat', opts.xhat, n);
  scoped(() => {
    const px = copyInF32(x);
    let sums: Float64Array | null = null;
    if (opts.sums) {
      const ps = alloc(16 * C);
      runJobs(channelJobs(C, n, (c0, c1) => ['channelSumsF32', ps, px, N, C, P, c0, c1]));
      sums = sumsOf(ps, C);
    }
    const pc = coefIn(coef(sums), C, 4);
    const py = alloc(4 * n), ph = opts.xhat ? alloc(4 * n) : 0;
    runJobs(channelJobs(C, n, (c0, c1) => ['channelAffineF32', py, ph, px, pc, N, C, P, c0, c1]));
    copyOutF32(py, n, y);
    if (opts.xhat) copyOutF32(ph, n, opts.xhat);
  });
}

/**
 * The backward of a per-channel normalisation: dx = dy a_c + xhat b_c + e_c, where `coef` receives the
 * channel sums of dy and dy * xhat (interleaved, 2C values, f64) and returns (a, b, e) per channel (3C).
 * @returns the sums it passed to `coef` (the gradients of a scale and a shift)
 * @throws {RangeError} on lengths that do not match N * C * P
 */
export function channelAffineBackwardF32(
  dy: Float32Array, xhat: Float32Array, N: number, C: number, P: number, coef: (sums: Float64Array) => ArrayLike<number>, dx: Float32Array,
): Float64Array {
  const n = N * C * P;
  check('dy', dy, n);
  check('xhat', xhat, n);
  check('dx', dx, n);
  return scoped(() => {
    const pdy = copyInF32(dy), ph = copyInF32(xhat), ps = alloc(16 * C);
    runJobs(channelJobs(C, n, (c0, c1) => ['channelGradSumsF32', ps, pdy, ph, N, C, P, c0, c1]));
    const sums = sumsOf(ps, C);
    const pc = coefIn(coef(sums), C, 3), pdx = alloc(4 * n);
    runJobs(channelJobs(C, n, (c0, c1) => ['channelAffine2F32', pdx, pdy, ph, pc, N, C, P, c0, c1]));
    copyOutF32(pdx, n, dx);
    return sums;
  });
}

/**
 * ReLU capped at `cap` (Infinity: a plain ReLU): y = x where 0 < x < cap, cap where x >= cap, else 0 (NaN
 * included); mask[i] = 1 where the value passed (the gradient flows), else 0.
 */
export function reluMaskF32(x: Float32Array, cap: number, y: Float32Array, mask: Uint8Array): void {
  const n = x.length;
  check('y', y, n);
  check('mask', mask, n);
  scoped(() => {
    const px = copyInF32(x), py = alloc(4 * n), pm = alloc(n), pcap = alloc(16);
    new Float32Array(memory.buffer, pcap, 1)[0] = cap;
    runJobs(rangeJobs(n, (i0, i1) => ['reluMaskF32', py, pm, px, pcap, i0, i1]));
    copyOutF32(py, n, y);
    mask.set(heap().u8.subarray(pm, pm + n));
  });
}

/** dx = dy where mask[i] is 1, 0 where it is 0. */
export function maskMulF32(dy: Float32Array, mask: Uint8Array, dx: Float32Array): void {
  const n = dy.length;
  check('mask', mask, n);
  check('dx', dx, n);
  scoped(() => {
    const pdy = copyInF32(dy), pm = copyInBytes(mask), pdx = alloc(4 * n);
    runJobs(rangeJobs(n, (i0, i1) => ['maskMulF32', pdx, pdy, pm, i0, i1]));
    copyOutF32(pdx, n, dx);
  });
}
