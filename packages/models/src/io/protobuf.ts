/**
 * A minimal protocol-buffers reader and writer (wire format only), enough for ONNX model files.
 * @module
 */

export class ProtobufError extends Error {
  override readonly name = 'ProtobufError';
}

export type Field =
  | { no: number; wire: 0; n: number }
  | { no: number; wire: 1; bytes: Uint8Array }
  | { no: number; wire: 2; bytes: Uint8Array }
  | { no: number; wire: 5; bytes: Uint8Array };

/** Reads an int64 varint at pos; returns [value, next pos]. Values past 2^53 lose precision (none in ONNX models). */
function readVarint(buf: Uint8Array, pos: number, what: string): [number, number] {
  let n = 0, mul = 1, i = pos;
  for (;;) {
    if (i >= buf.length) throw new ProtobufError(`${what}: truncated varint at byte ${pos}`);
    if (i - pos >= 10) throw new ProtobufError(`${what}: varint longer than 10 bytes at byte ${pos}`);
    const b = buf[i++]!;
    n += (b & 0x7f) * mul;
    mul *= 128;
    if (!(b & 0x80)) break;
  }
  // Ten-byte varints are negative int64s (two's complement).
  if (i - pos === 10) {
    let v = 0n;
    for (let k = i - 1; k >= pos; k--) v = (v << 7n) | BigInt(buf[k]! & 0x7f);
    n = Number(BigInt.asIntN(64, v));
  }
  return [n, i];
}

/** Decodes one message's fields. @throws {ProtobufError} on truncated or malformed input */
export function fields(buf: Uint8Array, what = 'message'): Field[] {
  if (!(buf instanceof Uint8Array)) throw new ProtobufError(`${what}: expected an embedded message`);
  const out: Field[] = [];
  let pos = 0;
  while (pos < buf.length) {
    let key: number;
    [key, pos] = readVarint(buf, pos, what);
    const no = Math.floor(key / 8), wire = key & 7;
    if (no === 0) throw new ProtobufError(`${what}: field number 0 at byte ${pos}`);
    if (wire === 0) {
      let n: number;
      [n, pos] = readVarint(buf, pos, what);
      out.push({ no, wire, n });
    } else if (wire === 2) {
      let len: number;
      [len, pos] = readVarint(buf, pos, what);
      if (len < 0 || pos + len > buf.length) throw new ProtobufError(`${what}: field ${no} claims ${len} bytes, ${buf.length - pos} left (truncated)`);
      out.push({ no, wire, bytes: buf.subarray(pos, pos + len) });
      pos += len;
    } else if (wire === 1 || wire === 5) {
      const len = wire === 1 ? 8 : 4;
      if (pos + len > buf.length) throw new ProtobufError(`${what}: truncated fixed field ${no}`);
      out.push({ no, wire, bytes: buf.subarray(pos, pos + len) } as Field);
      pos += len;
    } else throw new ProtobufError(`${what}: unsupported wire type ${wire} (field ${no})`);
  }
  return out;
}

/** The bytes of a length-delimited (or fixed) field. @throws {ProtobufError} when it is missing or a varint */
export function bytesOf(f: Field | undefined, what = 'field'): Uint8Array {
  if (f === undefined) throw new ProtobufError(`${what} is missing`);
  if (f.wire === 0) throw new ProtobufError(`${what} (field ${f.no}) is a varint where bytes were expected`);
  return f.bytes;
}

export const str = (f: Field | undefined): string => new TextDecoder().decode(bytesOf(f, 'string field'));

/** Repeated int64 (packed or not) from all fields with number `no`. */
export function ints(fs: Field[], no: number): number[] {
  const out: number[] = [];
  for (const f of fs) {
    if (f.no !== no) continue;
    if (f.wire === 0) out.push(f.n);
    else if (f.wire === 2) {
      for (let pos = 0; pos < f.bytes.length; ) {
        let v: number;
        [v, pos] = readVarint(f.bytes, pos, 'packed ints');
        out.push(v);
      }
    }
  }
  return out;
}

/** Repeated float (packed or not). */
export function floats(fs: Field[], no: number): number[] {
  const out: number[] = [];
  for (const f of fs) {
    if (f.no !== no) continue;
    const b = bytesOf(f, 'float field');
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    if (f.wire === 5) out.push(dv.getFloat32(0, true));
    else if (f.wire === 2) for (let i = 0; i + 4 <= b.length; i += 4) out.push(dv.getFloat32(i, true));
  }
  return out;
}

export function first(fs: Field[], no: number): Field | undefined {
  return fs.find((f) => f.no === no);
}

// --- writer -----------------------------------------------------------------------------------------

export class Writer {
  private readonly parts: number[] = [];

  private varint(v: number): void {
    let n = v < 0 ? BigInt.asUintN(64, BigInt(v)) : BigInt(v);
    do {
      let b = Number(n & 0x7fn);
      n >>= 7n;
      if (n > 0n) b |= 0x80;
      this.parts.push(b);
    } while (n > 0n);
  }

  int(no: number, v: number): this {
    this.varint(no * 8);
    this.varint(v);
    return this;
  }

  bytes(no: number, b: Uint8Array): this {
    this.varint(no * 8 + 2);
    this.varint(b.length);
    for (const x of b) this.parts.push(x);
    return this;
  }

  string(no: number, s: string): this {
    return this.bytes(no, new TextEncoder().encode(s));
  }

  msg(no: number, w: Writer): this {
    return this.bytes(no, w.finish());
  }

  float(no: number, v: number): this {
    this.varint(no * 8 + 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    for (const x of b) this.parts.push(x);
    return this;
  }

  packedInts(no: number, vs: readonly number[]): this {
    const w = new Writer();
    for (const v of vs) w.varint(v);
    return this.bytes(no, w.finish());
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}
