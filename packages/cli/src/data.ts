/**
 * Inputs: IDX files (the MNIST / Fashion-MNIST format, optionally gzipped) and seeded random images.
 * @module
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import seedrandom from 'seedrandom';
import { shapeSize } from '@si/ring';

export class DataError extends Error {
  override readonly name = 'DataError';
}

/** Reads an IDX file: magic 0x00 0x00 TYPE DIMS, dims as big-endian u32, then the data. */
export function readIdx(path: string): { dims: number[]; data: Uint8Array } {
  let raw: Uint8Array;
  try {
    raw = readFileSync(path);
  } catch (e) {
    throw new DataError(`cannot read ${path}: ${(e as Error).message}`);
  }
  if (raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      raw = gunzipSync(raw);
    } catch (e) {
      throw new DataError(`${path}: bad gzip data: ${(e as Error).message}`);
    }
  }
  if (raw.length < 4 || raw[0] !== 0 || raw[1] !== 0) throw new DataError(`${path} is not an IDX file (bad magic)`);
  if (raw[2] !== 0x08) throw new DataError(`${path}: only unsigned-byte IDX data is supported (type 0x${raw[2]!.toString(16)})`);
  const nd = raw[3]!;
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  if (raw.length < 4 + 4 * nd) throw new DataError(`${path}: truncated IDX header`);
  const dims = Array.from({ length: nd }, (_, i) => dv.getUint32(4 + 4 * i));
  const n = shapeSize(dims);
  const data = raw.subarray(4 + 4 * nd);
  if (data.length !== n) throw new DataError(`${path}: ${data.length} data bytes for dims [${dims.join(',')}] (${n} expected)`);
  return { dims, data };
}

/** Images [count, 1, H, W] scaled to [0, 1] from an IDX image file. */
export function idxImages(path: string, start = 0, count?: number): { x: Float32Array; shape: [number, number, number, number] } {
  const { dims, data } = readIdx(path);
  if (dims.length !== 3) throw new DataError(`${path}: expected images [N, H, W], got dims [${dims.join(',')}]`);
  const [N, H, W] = dims as [number, number, number];
  const c = count ?? N - start;
  if (start < 0 || c < 0 || start + c > N) throw new DataError(`${path} has ${N} images; asked for ${c} from ${start}`);
  const x = new Float32Array(c * H * W);
  for (let i = 0; i < x.length; i++) x[i] = data[start * H * W + i]! / 255;
  return { x, shape: [c, 1, H, W] };
}

/** Labels from an IDX label file. */
export function idxLabels(path: string, start = 0, count?: number): Uint8Array {
  const { dims, data } = readIdx(path);
  if (dims.length !== 1) throw new DataError(`${path}: expected labels [N], got dims [${dims.join(',')}]`);
  const c = count ?? dims[0]! - start;
  if (start < 0 || start + c > dims[0]!) throw new DataError(`${path} has ${dims[0]} labels; asked for ${c} from ${start}`);
  return data.slice(start, start + c);
}

/** Seeded random images in [0, 1) (test data, not protocol randomness). */
export function randomImages(shape: readonly number[], count: number, seed: string): Float32Array {
  const r = seedrandom(`images/${seed}`);
  return Float32Array.from({ length: count * shapeSize(shape) }, () => r());
}
