/**
 * ndarray (scijs) views at the API boundary: ring tensors and fixed-point encodings to and from the
 * strided arrays that image and array packages on npm exchange. Conversions share memory where the layout
 * allows (C-contiguous, no offset, the whole buffer) and copy only otherwise.
 * @module
 */
import ndarray, { type NdArray } from 'ndarray';
import { decodeFixed, encodeFixed, DEFAULT_FRAC_BITS } from './fixed.ts';
import { shapeSize } from './guards.ts';
import { RingTensor } from './tensor.ts';

/** The int64 storage ndarray types (a BigInt64Array over an ArrayBuffer). */
type I64 = BigInt64Array<ArrayBuffer>;
type Numeric = Float32Array | Float64Array | Uint8Array | Uint8ClampedArray | Uint16Array | Int8Array | Int16Array | Int32Array | Uint32Array;

/** Row-major strides of a shape. */
const rowMajor = (shape: readonly number[]): number[] => shape.map((_, i) => shapeSize(shape.slice(i + 1)));

/** Whether the view is the whole of its buffer in row-major order (so its data can be used as is). */
export function isWholeRowMajor(a: NdArray<ndarray.Data>): boolean {
  return a.offset === 0 && a.data.length === a.size && a.shape.every((d, i) => d === 1 || a.stride[i] === rowMajor(a.shape)[i]);
}

/** Calls fn(flat index, storage index) over a view in row-major order. */
function each(shape: readonly number[], stride: readonly number[], offset: number, fn: (i: number, at: number) => void): void {
  const n = shapeSize(shape), d = shape.length;
  const idx = new Array<number>(d).fill(0);
  let at = offset;
  for (let i = 0; i < n; i++) {
    fn(i, at);
    for (let k = d - 1; k >= 0; k--) {
      idx[k]!++;
      at += stride[k]!;
      if (idx[k]! < shape[k]!) break;
      at -= stride[k]! * shape[k]!;
      idx[k] = 0;
    }
  }
}

/** The tensor as an ndarray view (no copy). */
export function ringToNdarray(t: RingTensor): NdArray<I64> {
  return ndarray(t.data as I64, [...t.shape]);
}

/** A ring tensor of an ndarray of int64 values: the same memory when isWholeRowMajor, else a row-major copy. */
export function ringFromNdarray(a: NdArray<I64>): RingTensor {
  if (!(a.data instanceof BigInt64Array)) throw new TypeError(`"a" expected an ndarray of BigInt64Array, got ${a.dtype}`);
  if (isWholeRowMajor(a)) return new RingTensor(a.data, [...a.shape]);
  // Copy 64-bit elements as pairs of 32-bit words (no BigInt per element).
  const src = new Int32Array(a.data.buffer, a.data.byteOffset, 2 * a.data.length);
  const out = new BigInt64Array(a.size);
  const dst = new Int32Array(out.buffer);
  each(a.shape, a.stride, a.offset, (i, at) => {
    dst[2 * i] = src[2 * at]!;
    dst[2 * i + 1] = src[2 * at + 1]!;
  });
  return new RingTensor(out, [...a.shape]);
}

/**
 * Fixed-point encoding of real values in an ndarray of any strides (see encodeFixed for the rounding and
 * the range check); the shape is the view's.
 */
export function encodeNdarray(a: NdArray<Numeric>, f: number = DEFAULT_FRAC_BITS): RingTensor {
  if (isWholeRowMajor(a)) return encodeFixed(a.data, f, a.shape);
  const flat = new Float64Array(a.size);
  each(a.shape, a.stride, a.offset, (i, at) => (flat[i] = a.data[at]!));
  return encodeFixed(flat, f, a.shape);
}

/** The reals a fixed-point tensor holds, as an ndarray of its shape. */
export function decodeNdarray(t: RingTensor, f: number = DEFAULT_FRAC_BITS): NdArray<Float64Array> {
  return ndarray(decodeFixed(t, f), [...t.shape]);
}
