/**
 * Fixed-point encoding: a real v is stored as the ring element round(v * 2^f) (two's complement).
 * Rounding is to nearest with ties away from zero. Runs on 32-bit words: no BigInt per element.
 * @module
 */
import { aint, shapeSize } from './guards.ts';
import { RingTensor, words } from './tensor.ts';

const TWO32 = 4294967296;
const TWO63 = 9223372036854775808;

/** Default number of fractional bits (DESIGN §3). */
export const DEFAULT_FRAC_BITS = 12;

function roundHalfAway(x: number): number {
  const a = Math.abs(x);
  let r = Math.floor(a);
  if (a - r >= 0.5) r += 1;
  return x < 0 ? -r : r;
}

/**
 * Encodes reals with `f` fractional bits.
 * @param values - float32/float64 values (row-major)
 * @param f - fractional bits, 0..62
 * @param shape - tensor shape (default: flat)
 * @throws {RangeError} for NaN/Infinity or |v * 2^f| >= 2^63, naming the index
 * @example encodeFixed([1.5, -0.25], 12) // ring values [6144, -1024]
 */
export function encodeFixed(values: ArrayLike<number>, f: number = DEFAULT_FRAC_BITS, shape: readonly number[] = [values.length]): RingTensor {
  aint(f, 'f', 0, 62);
  if (shapeSize(shape) !== values.length)
    throw new RangeError(`"values" has ${values.length} elements, shape [${shape.join(',')}] needs ${shapeSize(shape)}`);
  const scale = 2 ** f;
  const data = new BigInt64Array(values.length);
  const w = words(data);
  for (let i = 0; i < values.length; i++) {
    const v = roundHalfAway(values[i]! * scale);
    if (!(v >= -TWO63 && v < TWO63)) {
      throw new RangeError(`"values[${i}]" = ${values[i]} does not fit in 64 bits at ${f} fractional bits`);
    }
    const hi = Math.floor(v / TWO32);
    w[2 * i] = (v - hi * TWO32) | 0;
    w[2 * i + 1] = hi | 0;
  }
  return new RingTensor(data, shape);
}

/**
 * Decodes ring elements with `f` fractional bits to float64 (exact while |x| < 2^53).
 * @example decodeFixed(encodeFixed([1.5], 12), 12) // Float64Array [1.5]
 */
export function decodeFixed(x: RingTensor, f: number = DEFAULT_FRAC_BITS): Float64Array {
  aint(f, 'f', 0, 62);
  const w = words(x.data);
  const out = new Float64Array(x.size);
  const inv = 2 ** -f;
  for (let i = 0; i < out.length; i++) out[i] = (w[2 * i + 1]! * TWO32 + (w[2 * i]! >>> 0)) * inv;
  return out;
}
