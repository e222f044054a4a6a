/**
 * Matrix product mod 2^64: [m, k] x [k, n] -> [m, n], on WASM SIMD kernels, split over threads by
 * column panels when the product is large.
 * @module
 */
import { ashape } from './guards.ts';
import { alloc, copyIn, copyOut, kernels, scoped } from './_wasm.ts';
import { getThreads, runJobs, splitRange, type Job } from './_pool.ts';
import { RingTensor } from './tensor.ts';

/** Products smaller than this many multiply-adds stay on the calling thread. */
export const PARALLEL_MACS = 1 << 21;

/** Threads worth using for `macs` multiply-adds over `panels` independent column panels. */
export function threadsFor(macs: number, panels: number): number {
  return macs < PARALLEL_MACS ? 1 : Math.max(1, Math.min(getThreads(), panels));
}

/**
 * a x b mod 2^64.
 * @param a - [m, k]
 * @param b - [k, n]
 * @returns [m, n]
 * @throws {RangeError} when the inner dimensions differ
 * @example matmul(RingTensor.from([1, 2], [1, 2]), RingTensor.from([3, 4], [2, 1])) // [[11]]
 */
export function matmul(a: RingTensor, b: RingTensor): RingTensor {
  if (a.ndim !== 2) throw new RangeError(`"a" expected shape [m,k], got [${a.shape.join(',')}]`);
  const [m, k] = a.shape as [number, number];
  ashape(b.shape, [k, -1], 'b');
  const n = b.shape[1]!;
  const out = new BigInt64Array(m * n);
  if (out.length === 0 || k === 0) return new RingTensor(out, [m, n]);
  scoped(() => {
    const pa = copyIn(a.data), pb = copyIn(b.data);
    const M4 = Math.ceil(m / 4), NP = Math.ceil(n / 4), ldc = NP * 4;
    const ap = alloc(M4 * 32 * k);
    kernels.packA(ap, pa, m, k, k);
    const c = alloc(M4 * 4 * ldc * 8);
    const ranges = splitRange(NP, threadsFor(m * n * k, NP));
    const jobs: Job[] = ranges.map(([p0, p1]) => ['matmulRange', ap, M4, pb, k, n, c, ldc, p0, p1, alloc(kernels.scratchBytes(k))]);
    runJobs(jobs);
    const po = alloc(m * n * 8);
    kernels.scatterRows(po, c, ldc, m, m, 0, 1, n);
    copyOut(out, po);
  });
  return new RingTensor(out, [m, n]);
}
