/**
 * The WebAssembly kernel module (built from ../asm by scripts/build-wasm.mjs), its shared memory, and a
 * stack-like scratch arena. Kernel calls copy operands into the arena, run, and copy results out; the
 * arena is rewound after every call, so nothing is allocated per element and nothing leaks.
 * @module
 */
import { relaxedSimd, wasmModule } from './_wasm-load.ts';

/** Exports of dist/kernels.wasm. Pointers and sizes are i32 (pointers above 2 GiB wrap, which wasm reads back as u32). */
export interface Kernels {
  addI64(out: number, a: number, b: number, n: number): void;
  subI64(out: number, a: number, b: number, n: number): void;
  mulI64(out: number, a: number, b: number, n: number): void;
  negI64(out: number, a: number, n: number): void;
  affineI64(out: number, a: number, n: number, sLo: number, sHi: number, tLo: number, tHi: number): void;
  shrSI64(out: number, a: number, n: number, bits: number): void;
  shrUI64(out: number, a: number, n: number, bits: number): void;
  shlI64(out: number, a: number, n: number, bits: number): void;
  sumAxisI64(dst: number, src: number, outer: number, len: number, inner: number): void;
  patchSumI64(out: number, x: number, planes: number, H: number, W: number, ph: number, pw: number): void;
  patchExpandI64(out: number, s: number, planes: number, H: number, W: number, ph: number, pw: number): void;
  blockDepth(K: number, unit: number): number;
  jobScratchBytes(KC: number, rowBlocks: number): number;
  fitsI32(p: number, n: number): number;
  matmulJob(a: number, b: number, out: number, M: number, N: number, K: number,
    b0: number, b1: number, q0: number, q1: number, scratch: number, narrow: number): void;
  convJob(wg: number, x: number, prm: number, out: number,
    b0: number, b1: number, q0: number, q1: number, scratch: number, narrow: number): void;
  convDepthwiseRange(out: number, x: number, w: number, prm: number, r0: number, r1: number): void;
  zpSample(src: number, srcLen: number, out: number, want: number, nonZero: number, p: number): number;
  zpPermutations(src: number, srcLen: number, out: number, n: number, m: number, row0: number): number;
  zpCompareDigits(x: number, r: number, beta: number, s: number, rho: number, perm: number, u: number,
    out: number, n: number, m: number, j: number, p: number): void;
  zpFindZero(d0: number, d1: number, out: number, n: number, m: number, p: number): void;
  zpSub(out: number, a: number, b: number, n: number, p: number): void;
  zpPack(out: number, d: number, n: number, bits: number, p: number): number;
  zpUnpack(out: number, src: number, n: number, bits: number, p: number): number;
  zpCountThird(r: number, beta: number, n: number, m: number): number;
  carrySample(src: number, words: number, out: number, want: number, q: number, bits: number, nonZero: number): number;
  carryDigits(v: number, beta: number, s: number, rho: number, perm: number, out: number, n: number, m: number, j: number, p: number): void;
  carryPack(out: number, digits: number, count: number, bits: number): void;
  carryUnpack(out: number, src: number, count: number, bits: number, p: number): number;
  carryZeros(a: number, b: number, out: number, n: number, E: number, p: number): void;
  bitsOfU32(out: number, v: number, n: number, k: number): void;
  splitTopBits(top: number, low: number, v: number, n: number, k: number): void;
  sgemmScratchBytes(K: number, rowBlocks: number): number;
  sgemmJob(a: number, b: number, c: number, M: number, N: number, K: number, lda: number, ldb: number, ldc: number,
    transA: number, transB: number, acc: number, b0: number, b1: number, q0: number, q1: number, scratch: number): void;
  regroupF32(gemm: number, nchw: number, N: number, O: number, P: number, o0: number, Og: number, r0: number, r1: number, toGemm: number): void;
  im2colF32(col: number, x: number, prm: number, k0: number, k1: number): void;
  col2imF32(dx: number, col: number, prm: number, c0: number, c1: number): void;
  depthwiseF32(out: number, x: number, w: number, prm: number, r0: number, r1: number): void;
  depthwiseBackwardF32(dx: number, dw: number, dy: number, x: number, w: number, prm: number, g0: number, g1: number): void;
  channelSumsF32(sums: number, x: number, N: number, C: number, P: number, c0: number, c1: number): void;
  channelAffineF32(y: number, xhat: number, x: number, coef: number, N: number, C: number, P: number, c0: number, c1: number): void;
  channelGradSumsF32(sums: number, dy: number, xhat: number, N: number, C: number, P: number, c0: number, c1: number): void;
  channelAffine2F32(dx: number, dy: number, xhat: number, coef: number, N: number, C: number, P: number, c0: number, c1: number): void;
  reluMaskF32(y: number, mask: number, x: number, capp: number, i0: number, i1: number): void;
  maskMulF32(dx: number, dy: number, mask: number, i0: number, i1: number): void;
  aesCtr128(out: number, blocks: number, rk: number, te: number, ctr: number): void;
}

const PAGE = 65536;
/** wasm32 limit: 65536 pages = 4 GiB, declared as the maximum of the shared memory. */
const MAX_PAGES = 65536;
/** The first page is kept for small parameter blocks (conv geometry). */
export const PARAM_PTR = 1024;
const HEAP_BASE = PAGE;

export { relaxedSimd, wasmModule };
export const memory = new WebAssembly.Memory({ initial: 32, maximum: MAX_PAGES, shared: true });
export const kernels = new WebAssembly.Instance(wasmModule, { env: { memory } }).exports as unknown as Kernels;

let top = HEAP_BASE;
let i64: BigInt64Array = new BigInt64Array(memory.buffer);
let u32: Uint32Array = new Uint32Array(memory.buffer);
let i32: Int32Array = new Int32Array(memory.buffer);
let u8: Uint8Array = new Uint8Array(memory.buffer);

function refreshViews(): void {
  if (i64.buffer.byteLength !== memory.buffer.byteLength) {
    i64 = new BigInt64Array(memory.buffer);
    u32 = new Uint32Array(memory.buffer);
    i32 = new Int32Array(memory.buffer);
    u8 = new Uint8Array(memory.buffer);
  }
}

/** Views of the whole wasm memory (re-created after growth). */
export function heap(): { i64: BigInt64Array; u32: Uint32Array; i32: Int32Array; u8: Uint8Array } {
  refreshViews();
  return { i64, u32, i32, u8 };
}

/** Reserves `bytes` (64-byte aligned) at the top of the arena, growing memory if needed. */
export function alloc(bytes: number): number {
  const start = Math.ceil(top / 64) * 64;
  const end = start + bytes;
  if (end > MAX_PAGES * PAGE) {
    throw new RangeError(`@si/ring: kernel scratch of ${end} bytes exceeds the 4 GiB wasm32 memory; split the operation`);
  }
  const have = memory.buffer.byteLength;
  if (end > have) memory.grow(Math.ceil((end - have) / PAGE));
  top = end;
  return start;
}

/** Runs `fn` with the arena rewound afterwards (kernel calls nest like a stack). */
export function scoped<T>(fn: () => T): T {
  const mark = top;
  try {
    return fn();
  } finally {
    top = mark;
  }
}

/** Copies a BigInt64Array into a fresh arena block; returns its pointer. */
export function copyIn(src: BigInt64Array): number {
  const p = alloc(src.length * 8);
  heap().i64.set(src, p / 8);
  return p;
}

/** Copies bytes into a fresh arena block; returns its pointer. */
export function copyInBytes(src: Uint8Array): number {
  const p = alloc(src.length);
  heap().u8.set(src, p);
  return p;
}

/** Copies n bytes from the arena at ptr into a new Uint8Array. */
export function copyOutBytes(ptr: number, n: number): Uint8Array {
  return heap().u8.slice(ptr, ptr + n);
}

/** Copies a Float32Array into a fresh arena block; returns its pointer. */
export function copyInF32(src: Float32Array): number {
  const p = alloc(src.length * 4);
  new Float32Array(memory.buffer, p, src.length).set(src);
  return p;
}

/** n floats from the arena at ptr, as a new Float32Array (or into dst). */
export function copyOutF32(ptr: number, n: number, dst?: Float32Array): Float32Array {
  const out = dst ?? new Float32Array(n);
  out.set(new Float32Array(memory.buffer, ptr, n));
  return out;
}

/** Copies n i64 values from the arena at ptr into dst. */
export function copyOut(dst: BigInt64Array, ptr: number, n = dst.length): void {
  const h = heap().i64;
  dst.set(h.subarray(ptr / 8, ptr / 8 + n));
}
