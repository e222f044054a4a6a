/**
 * Patch sums and their broadcast back, the local (communication-free) parts of a patch ReLU. Patches of
 * ph x pw tile each H x W map from the top-left; the last patch row/column is partial when ph or pw does
 * not divide H or W. Both are linear, so they commute with additive sharing.
 * @module
 */
import { aint, ashape, shapeSize } from './guards.ts';
import { alloc, copyIn, copyOut, kernels, scoped } from './_wasm.ts';
import { RingTensor } from './tensor.ts';

/** Runs a patch kernel (out, in, planes, H, W, ph, pw) on a copy of `x` in the arena. */
function run(kernel: (out: number, x: number, ...dims: number[]) => void, x: RingTensor, n: number, shape: number[], dims: number[]): RingTensor {
  const out = new BigInt64Array(n);
  if (n > 0) {
    scoped(() => {
      const px = copyIn(x.data), po = alloc(n * 8);
      kernel(po, px, ...dims);
      copyOut(out, po);
    });
  }
  return new RingTensor(out, shape);
}

/** Number of patches along a side of length n for patch side p: ceil(n / p). */
export const patchCount = (n: number, p: number): number => Math.ceil(n / p);

function planesOf(shape: readonly number[], title: string): [number, number, number] {
  if (shape.length < 2) throw new RangeError(`"${title}" expected shape [..., H, W], got [${shape.join(',')}]`);
  const H = shape[shape.length - 2]!, W = shape[shape.length - 1]!;
  return [shapeSize(shape.slice(0, -2)), H, W];
}

/**
 * Sum of every ph x pw patch of each H x W map.
 * @param x - [..., H, W]
 * @returns [..., ceil(H/ph), ceil(W/pw)]
 */
export function patchSum(x: RingTensor, ph: number, pw: number): RingTensor {
  aint(ph, 'ph', 1);
  aint(pw, 'pw', 1);
  const [planes, H, W] = planesOf(x.shape, 'x');
  const PH = patchCount(H, ph), PW = patchCount(W, pw);
  return run(kernels.patchSumI64, x, planes * PH * PW, [...x.shape.slice(0, -2), PH, PW], [planes, H, W, ph, pw]);
}

/**
 * Broadcast of one value per patch to every pixel of its patch (the inverse layout of patchSum).
 * @param s - [..., ceil(H/ph), ceil(W/pw)]
 * @returns [..., H, W]
 */
export function patchExpand(s: RingTensor, ph: number, pw: number, H: number, W: number): RingTensor {
  aint(ph, 'ph', 1);
  aint(pw, 'pw', 1);
  aint(H, 'H');
  aint(W, 'W');
  const [planes] = planesOf(s.shape, 's');
  ashape(s.shape, [...s.shape.slice(0, -2), patchCount(H, ph), patchCount(W, pw)], 's');
  return run(kernels.patchExpandI64, s, planes * H * W, [...s.shape.slice(0, -2), H, W], [planes, H, W, ph, pw]);
}
