/**
 * Z_p digit vectors for PrivateCompare (p = 67): one digit per byte in memory, 7 bits per digit on the
 * wire (67 < 2^7), packed LSB-first into a byte stream.
 * @module
 */
import { abytes, aint } from './guards.ts';

/** The PrivateCompare prime (SecureNN): the smallest prime above 64 + 2. */
export const ZP = 67;

/** Bytes needed to send n digits at 7 bits each. */
export const packedZpBytes = (n: number): number => Math.ceil((7 * aint(n, 'n')) / 8);

/**
 * Packs digits (each < 67) at 7 bits per digit.
 * @throws {RangeError} when a digit is not in [0, 67)
 */
export function packZp7(digits: Uint8Array): Uint8Array {
  abytes(digits, 'digits');
  const out = new Uint8Array(packedZpBytes(digits.length));
  let acc = 0, nbits = 0, o = 0;
  for (let i = 0; i < digits.length; i++) {
    const d = digits[i]!;
    if (d >= ZP) throw new RangeError(`"digits[${i}]" expected a value in [0, ${ZP}), got ${d}`);
    acc |= d << nbits;
    nbits += 7;
    if (nbits >= 8) {
      out[o++] = acc & 0xff;
      acc >>>= 8;
      nbits -= 8;
    }
  }
  if (nbits > 0) out[o] = acc & 0xff;
  return out;
}

/**
 * Unpacks n digits from a 7-bit packed stream.
 * @throws {RangeError} on a wrong length, a digit >= 67 or non-zero padding bits (a malformed message)
 */
export function unpackZp7(bytes: Uint8Array, n: number): Uint8Array {
  abytes(bytes, 'bytes', packedZpBytes(n));
  const out = new Uint8Array(n);
  let acc = 0, nbits = 0, b = 0;
  for (let i = 0; i < n; i++) {
    if (nbits < 7) {
      acc |= bytes[b++]! << nbits;
      nbits += 8;
    }
    const d = acc & 0x7f;
    if (d >= ZP) throw new RangeError(`packed Z_${ZP} digit ${i} is ${d}, not in [0, ${ZP})`);
    out[i] = d;
    acc >>>= 7;
    nbits -= 7;
  }
  if (acc !== 0) throw new RangeError('packed Z_67 stream has non-zero padding bits');
  return out;
}

/** (a + b) mod 67, elementwise. */
export function addZp(a: Uint8Array, b: Uint8Array, out = new Uint8Array(a.length)): Uint8Array {
  for (let i = 0; i < a.length; i++) {
    const s = a[i]! + b[i]!;
    out[i] = s >= ZP ? s - ZP : s;
  }
  return out;
}

/** (a - b) mod 67, elementwise. */
export function subZp(a: Uint8Array, b: Uint8Array, out = new Uint8Array(a.length)): Uint8Array {
  for (let i = 0; i < a.length; i++) {
    const s = a[i]! - b[i]!;
    out[i] = s < 0 ? s + ZP : s;
  }
  return out;
}

/** (a * b) mod 67, elementwise. */
export function mulZp(a: Uint8Array, b: Uint8Array, out = new Uint8Array(a.length)): Uint8Array {
  for (let i = 0; i < a.length; i++) out[i] = (a[i]! * b[i]!) % ZP;
  return out;
}
