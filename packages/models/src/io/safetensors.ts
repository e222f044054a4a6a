import { shapeSize } from '@si/ring';
/**
 * safetensors: an 8-byte little-endian header length, a JSON header
 * { name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__"?: { string: string } }, then the raw
 * little-endian tensor bytes (offsets relative to the end of the header). The reader checks every offset,
 * size and dtype and names the tensor at fault.
 * @module
 */

export class SafetensorsError extends Error {
  override readonly name = 'SafetensorsError';
}

const DTYPES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };
const MAX_HEADER = 100 * 2 ** 20;

export interface SafeTensor {
  dtype: string;
  shape: number[];
  /** Float values (F64/F32/F16/BF16 converted to float32; integer dtypes as float32 too). */
  data: Float32Array;
}

function f16(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/**
 * Parses a safetensors file.
 * @throws {SafetensorsError} on a truncated file, a bad header, or a tensor whose offsets or size are wrong
 */
export function readSafetensors(bytes: Uint8Array): { tensors: Map<string, SafeTensor>; metadata: Record<string, string> } {
  if (bytes.length < 8) throw new SafetensorsError(`file too short for a safetensors header (${bytes.length} bytes)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = dv.getUint32(0, true) + dv.getUint32(4, true) * 2 ** 32;
  if (hlen > MAX_HEADER) throw new SafetensorsError(`header length ${hlen} is not plausible (over ${MAX_HEADER} bytes)`);
  if (8 + hlen > bytes.length) throw new SafetensorsError(`file truncated: header says ${hlen} bytes, only ${bytes.length - 8} follow`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + hlen)));
  } catch (e) {
    throw new SafetensorsError(`header is not valid JSON: ${(e as Error).message}`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new SafetensorsError('header must be a JSON object');
  const data = bytes.subarray(8 + hlen);
  const tensors = new Map<string, SafeTensor>();
  const spans: [number, number, string][] = [];
  let metadata: Record<string, string> = {};
  for (const [name, v] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = v as Record<string, string>;
      continue;
    }
    const t = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (t === null || typeof t !== 'object') throw new SafetensorsError(`tensor "${name}": expected {dtype, shape, data_offsets}`);
    const width = DTYPES[t.dtype as string];
    if (!width) throw new SafetensorsError(`tensor "${name}": unsupported dtype ${JSON.stringify(t.dtype)}`);
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new SafetensorsError(`tensor "${name}": bad shape ${JSON.stringify(t.shape)}`);
    const off = t.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0) || off[1] < off[0])
      throw new SafetensorsError(`tensor "${name}": bad data_offsets ${JSON.stringify(off)}`);
    const [b, e] = off as [number, number];
    const numel = shapeSize(t.shape as number[]);
    if (e - b !== numel * width) throw new SafetensorsError(`tensor "${name}": ${e - b} bytes for ${numel} ${t.dtype} values (${numel * width} needed)`);
    if (e > data.length) throw new SafetensorsError(`tensor "${name}": data ends at byte ${e}, file has ${data.length} (truncated)`);
    spans.push([b, e, name]);
    tensors.set(name, { dtype: t.dtype as string, shape: t.shape as number[], data: decode(data.subarray(b, e), t.dtype as string, numel) });
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++)
    if (spans[i]![0] < spans[i - 1]![1]) throw new SafetensorsError(`tensors "${spans[i - 1]![2]}" and "${spans[i]![2]}" overlap`);
  return { tensors, metadata };
}

function decode(raw: Uint8Array, dtype: string, n: number): Float32Array {
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    switch (dtype) {
      case 'F32': out[i] = dv.getFloat32(4 * i, true); break;
      case 'F64': out[i] = dv.getFloat64(8 * i, true); break;
      case 'F16': out[i] = f16(dv.getUint16(2 * i, true)); break;
      case 'BF16': out[i] = new Float32Array(new Uint32Array([dv.getUint16(2 * i, true) << 16]).buffer)[0]!; break;
      case 'I64': out[i] = Number(dv.getBigInt64(8 * i, true)); break;
      case 'I32': out[i] = dv.getInt32(4 * i, true); break;
      case 'I16': out[i] = dv.getInt16(2 * i, true); break;
      case 'I8': out[i] = dv.getInt8(i); break;
      default: out[i] = dv.getUint8(i);
    }
  }
  return out;
}

/** Writes float32 tensors (in the given order) and string metadata as safetensors. */
export function writeSafetensors(tensors: Iterable<[string, { shape: readonly number[]; data: Float32Array }]>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  const parts: Float32Array[] = [];
  let off = 0;
  for (const [name, t] of tensors) {
    const numel = shapeSize(t.shape);
    if (numel !== t.data.length) throw new SafetensorsError(`tensor "${name}": ${t.data.length} values for shape [${t.shape.join(',')}]`);
    header[name] = { dtype: 'F32', shape: [...t.shape], data_offsets: [off, off + 4 * numel] };
    parts.push(t.data);
    off += 4 * numel;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8); // data starts 8-byte aligned
  const h = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + h.length + off);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, h.length, true);
  out.set(h, 8);
  let at = 8 + h.length;
  for (const p of parts) {
    const le = new Uint8Array(p.buffer, p.byteOffset, p.byteLength); // float32 little-endian on every supported platform
    out.set(le, at);
    at += p.byteLength;
  }
  return out;
}
