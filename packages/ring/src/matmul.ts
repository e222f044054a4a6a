/**
 * Matrix product mod 2^64: [m, k] x [k, n] -> [m, n], on WASM SIMD kernels, split over threads when
 * the product is large.
 * @module
 */
import { ashape } from './guards.ts';
import { alloc, copyIn, copyOut, kernels, scoped } from './_wasm.ts';
import { getThreads, runJobs, splitRange } from './_pool.ts';
import { RingTensor } from './tensor.ts';

let narrowCalls = 0;

/**
 * Number of products (matmul and conv2d calls) that ran on the narrow kernel since the process started:
 * those whose left operand (a, the weights) fits in signed 32 bits. For tests and benches.
 */
export function narrowProductCount(): number {
  return narrowCalls;
}

/**
 * Whether the `n` ring values at wasm address `p` all fit in signed 32 bits, so the GEMM can use the
 * narrow micro-kernel (a sign-extended 32-bit left operand: 2 widening multiplies and 1 32-bit multiply per
 * four multiply-adds instead of 2 and 2; gemm.ts). A server's fixed-point weights do; masked values do not.
 */
export function narrowOperand(p: number, n: number): boolean {
  const narrow = kernels.fitsI32(p, n) === 1;
  if (narrow) narrowCalls++;
  return narrow;
}

/** Products smaller than this many multiply-adds stay on the calling thread. */
export const PARALLEL_MACS = 1 << 21;

/** A job's rectangle: row blocks [b0, b1) x column panels [q0, q1) (4 rows / 4 columns each). */
export type Tile = [b0: number, b1: number, q0: number, q1: number];

/**
 * Splits a GEMM of `rowBlocks` x `panels` over the threads worth using for `macs` multiply-adds. Each job
 * packs the A rows and B columns it reads, so the axis that is split is the one whose other side is
 * cheaper to pack twice: columns when A is the smaller operand, rows otherwise.
 */
export function gemmTiles(rowBlocks: number, panels: number, macs: number): Tile[] {
  const t = macs < PARALLEL_MACS ? 1 : getThreads();
  if (t === 1 || rowBlocks === 0 || panels === 0) return [[0, rowBlocks, 0, panels]];
  if (rowBlocks <= panels) return splitRange(panels, t).map(([q0, q1]): Tile => [0, rowBlocks, q0, q1]);
  return splitRange(rowBlocks, t).map(([b0, b1]): Tile => [b0, b1, 0, panels]);
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
  if (!(a instanceof RingTensor)) throw new TypeError(`"a" expected a RingTensor`);
  if (!(b instanceof RingTensor)) throw new TypeError(`"b" expected a RingTensor`);
  if (a.ndim !== 2) throw new RangeError(`"a" expected shape [m,k], got [${a.shape.join(',')}]`);
  const [m, k] = a.shape as [number, number];
  ashape(b.shape, [k, -1], 'b');
  const n = b.shape[1]!;
  const out = new BigInt64Array(m * n);
  if (out.length === 0 || k === 0) return new RingTensor(out, [m, n]);
  scoped(() => {
    const pa = copyIn(a.data), pb = copyIn(b.data), po = alloc(out.length * 8);
    const tiles = gemmTiles(Math.ceil(m / 4), Math.ceil(n / 4), m * n * k);
    const narrow = narrowOperand(pa, m * k) ? 1 : 0;
    runJobs(tiles.map(([b0, b1, q0, q1]) => ['matmulJob', pa, pb, po, m, n, k, b0, b1, q0, q1, alloc(kernels.jobScratchBytes(kernels.blockDepth(k, 1), b1 - b0)), narrow]));
    copyOut(out, po);
  });
  return new RingTensor(out, [m, n]);
}
