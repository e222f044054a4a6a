/**
 * Layout helpers of the reductions over an axis (max, argmax, the shallow argmax).
 * @module
 */
import { RingTensor, shapeSize } from '@si/ring';
import { Shared, slice } from '@si/sharing';

/** Moves `axis` last and views the result as [M, n]. */
export function columnsOf(x: Shared, axis: number): { cols: Shared[]; outShape: number[] } {
  const nd = x.shape.length;
  if (!(Number.isInteger(axis) && axis >= 0 && axis < nd)) throw new RangeError(`"axis" expected an integer in [0, ${nd - 1}], got ${axis}`);
  const n = x.shape[axis]!;
  if (n === 0) throw new RangeError(`axis ${axis} of [${x.shape.join(',')}] is empty`);
  const outShape = x.shape.filter((_, i) => i !== axis);
  const perm = [...outShape.keys()].map((i) => (i < axis ? i : i + 1)).concat(axis);
  const M = shapeSize(outShape);
  const flat = x.map((s) => s.transpose(perm).reshape([M, n]), [M, n]);
  return { cols: [...Array(n).keys()].map((t) => slice(flat, 1, t, t + 1).reshape([M])), outShape };
}

/** b repeated `times` times, end to end. */
export function repeat(b: Uint8Array, times: number): Uint8Array {
  const out = new Uint8Array(b.length * times);
  for (let t = 0; t < times; t++) out.set(b, t * b.length);
  return out;
}


/**
 * The maximum over `axis` (index: the index of its first occurrence instead), in the clear: a plain loop,
 * the twin of max, argmax and argmaxShallow.
 */
export function firstMaxClear(x: RingTensor, axis: number, index: boolean): RingTensor {
  const { cols, outShape } = columnsOf(new Shared(x.shape, x), axis);
  const data = cols.map((c) => c.share!.data);
  const out = new BigInt64Array(shapeSize(outShape));
  for (let i = 0; i < out.length; i++) {
    let best = 0;
    for (let t = 1; t < data.length; t++) if (data[t]![i]! > data[best]![i]!) best = t;
    out[i] = index ? BigInt(best) : data[best]![i]!;
  }
  return new RingTensor(out, outShape);
}
