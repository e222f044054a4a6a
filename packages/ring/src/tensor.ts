/**
 * RingTensor: a row-major tensor over Z_2^64. Values are two's-complement 64-bit integers in a
 * BigInt64Array; arithmetic wraps mod 2^64. Elementwise kernels run in WebAssembly on chunks copied
 * into the kernel arena, so no per-element BigInt is ever created.
 * @module
 */
import { ai64, aint, ashape, ashapeLike, resolveShape, shapeSize } from './guards.ts';
import { alloc, copyOut, heap, kernels, scoped } from './_wasm.ts';

/** Elements per kernel chunk: 2 operands + result stay within L2 (3 x 512 KiB). */
const CHUNK = 1 << 16;

/** 32-bit halves of a bigint taken mod 2^64 (once per call, not per element). */
function halves(s: bigint | number): [number, number] {
  const v = BigInt.asUintN(64, typeof s === 'bigint' ? s : BigInt(aint(s, 'scalar', Number.MIN_SAFE_INTEGER)));
  return [Number(v & 0xffffffffn) | 0, Number(v >> 32n) | 0];
}

/** 32-bit words of a BigInt64Array (little-endian: word 2i is the low half of element i). */
export function words(a: BigInt64Array): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, a.length * 2);
}

type Binary = 'addI64' | 'subI64' | 'mulI64';

function binaryInto(op: Binary, out: BigInt64Array, a: BigInt64Array, b: BigInt64Array): BigInt64Array {
  const n = a.length;
  ai64(b, 'b', n);
  ai64(out, 'out', n);
  scoped(() => {
    const pa = alloc(CHUNK * 8), pb = alloc(CHUNK * 8);
    const h = heap().i64;
    for (let s = 0; s < n; s += CHUNK) {
      const m = Math.min(CHUNK, n - s);
      h.set(a.subarray(s, s + m), pa / 8);
      h.set(b.subarray(s, s + m), pb / 8);
      kernels[op](pa, pa, pb, m);
      out.set(h.subarray(pa / 8, pa / 8 + m), s);
    }
  });
  return out;
}

/** Applies a unary kernel `k(outPtr, inPtr, m)` chunk by chunk. */
function unaryInto(out: BigInt64Array, a: BigInt64Array, k: (o: number, i: number, m: number) => void): BigInt64Array {
  const n = a.length;
  ai64(out, 'out', n);
  scoped(() => {
    const pa = alloc(CHUNK * 8);
    const h = heap().i64;
    for (let s = 0; s < n; s += CHUNK) {
      const m = Math.min(CHUNK, n - s);
      h.set(a.subarray(s, s + m), pa / 8);
      k(pa, pa, m);
      out.set(h.subarray(pa / 8, pa / 8 + m), s);
    }
  });
  return out;
}

/** out = a + b (mod 2^64). out may be a or b. */
export const addInto = (out: BigInt64Array, a: BigInt64Array, b: BigInt64Array): BigInt64Array => binaryInto('addI64', out, a, b);
/** out = a - b (mod 2^64). */
export const subInto = (out: BigInt64Array, a: BigInt64Array, b: BigInt64Array): BigInt64Array => binaryInto('subI64', out, a, b);
/** out = a * b elementwise (mod 2^64). */
export const mulInto = (out: BigInt64Array, a: BigInt64Array, b: BigInt64Array): BigInt64Array => binaryInto('mulI64', out, a, b);
/** out = -a (mod 2^64). */
export const negInto = (out: BigInt64Array, a: BigInt64Array): BigInt64Array => unaryInto(out, a, kernels.negI64);

/** out = a * s + t (mod 2^64) for scalars s, t. */
export function affineInto(out: BigInt64Array, a: BigInt64Array, s: bigint | number, t: bigint | number = 0): BigInt64Array {
  const [sl, sh] = halves(s), [tl, th] = halves(t);
  return unaryInto(out, a, (o, i, m) => kernels.affineI64(o, i, m, sl, sh, tl, th));
}

/** out = a >> bits, arithmetic (floor division by 2^bits). */
export function shrInto(out: BigInt64Array, a: BigInt64Array, bits: number): BigInt64Array {
  aint(bits, 'bits', 0, 63);
  return unaryInto(out, a, (o, i, m) => kernels.shrSI64(o, i, m, bits));
}

/** out = a >>> bits, logical (the 64-bit pattern read as unsigned). */
export function shrLogicalInto(out: BigInt64Array, a: BigInt64Array, bits: number): BigInt64Array {
  aint(bits, 'bits', 0, 63);
  return unaryInto(out, a, (o, i, m) => kernels.shrUI64(o, i, m, bits));
}

/** out = a << bits (multiplication by 2^bits mod 2^64). */
export function shlInto(out: BigInt64Array, a: BigInt64Array, bits: number): BigInt64Array {
  aint(bits, 'bits', 0, 63);
  return unaryInto(out, a, (o, i, m) => kernels.shlI64(o, i, m, bits));
}

/** A tensor over Z_2^64: `data` holds the values row-major, `shape` the dimensions. */
export class RingTensor {
  readonly data: BigInt64Array;
  readonly shape: readonly number[];

  /** Wraps `data` (not copied). @throws {RangeError} when the size does not match the shape. */
  constructor(data: BigInt64Array, shape: readonly number[]) {
    ai64(data, 'data');
    ashapeLike(shape, 'shape');
    if (shapeSize(shape) !== data.length)
      throw new RangeError(`"data" has ${data.length} elements, shape [${shape.join(',')}] needs ${shapeSize(shape)}`);
    this.data = data;
    this.shape = Object.freeze([...shape]);
  }

  /** All-zero tensor. */
  static zeros(shape: readonly number[]): RingTensor {
    return new RingTensor(new BigInt64Array(shapeSize(ashapeLike(shape, 'shape'))), shape);
  }

  /**
   * Tensor from values: bigints are taken mod 2^64, numbers must be safe integers.
   * @example RingTensor.from([1, -2n, 2n ** 63n], [3]) // [1, -2, -2^63]
   */
  static from(values: ArrayLike<bigint | number>, shape: readonly number[] = [values.length]): RingTensor {
    const data = new BigInt64Array(values.length);
    const w = words(data);
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (typeof v === 'bigint') data[i] = BigInt.asIntN(64, v);
      else {
        aint(v, `values[${i}]`, Number.MIN_SAFE_INTEGER);
        const hi = Math.floor(v / 4294967296);
        w[2 * i] = (v - hi * 4294967296) | 0;
        w[2 * i + 1] = hi | 0;
      }
    }
    return new RingTensor(data, shape);
  }

  /**
   * Tensor of uniformly random ring elements; `fill` writes random bytes into the buffer it is given
   * (a keyed PRF stream in protocols; never Math.random).
   */
  static random(shape: readonly number[], fill: (bytes: Uint8Array) => void): RingTensor {
    const t = RingTensor.zeros(shape);
    fill(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    return t;
  }

  get size(): number {
    return this.data.length;
  }

  get ndim(): number {
    return this.shape.length;
  }

  clone(): RingTensor {
    return new RingTensor(this.data.slice(), this.shape);
  }

  /** Same data, new shape (one dimension may be -1). */
  reshape(shape: readonly number[]): RingTensor {
    return new RingTensor(this.data, resolveShape(this.size, shape, this.shape));
  }

  private same(b: RingTensor, title: string): BigInt64Array {
    if (!(b instanceof RingTensor)) throw new TypeError(`"${title}" expected a RingTensor`);
    ashape(b.shape, this.shape, title);
    return b.data;
  }

  private fresh(): BigInt64Array {
    return new BigInt64Array(this.size);
  }

  add(b: RingTensor): RingTensor {
    return new RingTensor(addInto(this.fresh(), this.data, this.same(b, 'b')), this.shape);
  }
  sub(b: RingTensor): RingTensor {
    return new RingTensor(subInto(this.fresh(), this.data, this.same(b, 'b')), this.shape);
  }
  mul(b: RingTensor): RingTensor {
    return new RingTensor(mulInto(this.fresh(), this.data, this.same(b, 'b')), this.shape);
  }
  neg(): RingTensor {
    return new RingTensor(negInto(this.fresh(), this.data), this.shape);
  }
  /** this * s (mod 2^64). */
  mulScalar(s: bigint | number): RingTensor {
    return new RingTensor(affineInto(this.fresh(), this.data, s, 0), this.shape);
  }
  /** this + s (mod 2^64). */
  addScalar(s: bigint | number): RingTensor {
    return new RingTensor(affineInto(this.fresh(), this.data, 1, s), this.shape);
  }
  /** Arithmetic shift right (floor(x / 2^bits)). */
  shr(bits: number): RingTensor {
    return new RingTensor(shrInto(this.fresh(), this.data, bits), this.shape);
  }
  /** Logical shift right. */
  shrLogical(bits: number): RingTensor {
    return new RingTensor(shrLogicalInto(this.fresh(), this.data, bits), this.shape);
  }
  /** Left shift (x * 2^bits mod 2^64). */
  shl(bits: number): RingTensor {
    return new RingTensor(shlInto(this.fresh(), this.data, bits), this.shape);
  }

  /** In-place forms: this op= b. Return this. */
  addInPlace(b: RingTensor): this {
    addInto(this.data, this.data, this.same(b, 'b'));
    return this;
  }
  subInPlace(b: RingTensor): this {
    subInto(this.data, this.data, this.same(b, 'b'));
    return this;
  }
  mulInPlace(b: RingTensor): this {
    mulInto(this.data, this.data, this.same(b, 'b'));
    return this;
  }
  negInPlace(): this {
    negInto(this.data, this.data);
    return this;
  }
  mulScalarInPlace(s: bigint | number): this {
    affineInto(this.data, this.data, s, 0);
    return this;
  }
  addScalarInPlace(s: bigint | number): this {
    affineInto(this.data, this.data, 1, s);
    return this;
  }
  shrInPlace(bits: number): this {
    shrInto(this.data, this.data, bits);
    return this;
  }
  shlInPlace(bits: number): this {
    shlInto(this.data, this.data, bits);
    return this;
  }

  /** Sum over one axis (the axis is removed from the shape). */
  sum(axis: number): RingTensor {
    aint(axis, 'axis', 0, this.ndim - 1);
    const outer = shapeSize(this.shape.slice(0, axis));
    const len = this.shape[axis]!;
    const inner = shapeSize(this.shape.slice(axis + 1));
    const shape = this.shape.filter((_, i) => i !== axis);
    const out = new BigInt64Array(outer * inner);
    if (len === 0 || out.length === 0) return new RingTensor(out, shape);
    scoped(() => {
      const src = alloc(this.size * 8), dst = alloc(out.length * 8);
      heap().i64.set(this.data, src / 8);
      kernels.sumAxisI64(dst, src, outer, len, inner);
      copyOut(out, dst);
    });
    return new RingTensor(out, shape);
  }

  /** Elements [start, end) along `axis` (a copy). */
  slice(axis: number, start: number, end: number): RingTensor {
    aint(axis, 'axis', 0, Math.max(0, this.ndim - 1));
    const len = this.shape[axis]!;
    aint(start, 'start', 0, len);
    aint(end, 'end', start, len);
    const outer = shapeSize(this.shape.slice(0, axis)), inner = shapeSize(this.shape.slice(axis + 1));
    const w = (end - start) * inner;
    const out = new BigInt64Array(outer * w);
    for (let o = 0; o < outer; o++) out.set(this.data.subarray((o * len + start) * inner, (o * len + start) * inner + w), o * w);
    const shape = [...this.shape];
    shape[axis] = end - start;
    return new RingTensor(out, shape);
  }

  /** Channels [start, end) of an [N, C, ...] tensor (a copy): slice(1, start, end). */
  sliceChannels(start: number, end: number): RingTensor {
    if (this.ndim < 2) throw new RangeError(`sliceChannels needs at least 2 dimensions, got [${this.shape.join(',')}]`);
    return this.slice(1, start, end);
  }

  /** Concatenation along `axis`; the other dimensions must agree. */
  static concat(parts: readonly RingTensor[], axis: number): RingTensor {
    if (parts.length === 0) throw new RangeError('"parts" expected at least one tensor');
    const first = parts[0]!;
    aint(axis, 'axis', 0, Math.max(0, first.ndim - 1));
    const want = first.shape.map((d, i) => (i === axis ? -1 : d));
    let total = 0;
    parts.forEach((p, i) => {
      ashape(p.shape, want, `parts[${i}]`);
      total += p.shape[axis]!;
    });
    const outer = shapeSize(first.shape.slice(0, axis)), inner = shapeSize(first.shape.slice(axis + 1));
    const out = new BigInt64Array(outer * total * inner);
    for (let o = 0, at = 0; o < outer; o++) {
      for (const p of parts) {
        const w = p.shape[axis]! * inner;
        out.set(p.data.subarray(o * w, o * w + w), at);
        at += w;
      }
    }
    const shape = [...first.shape];
    shape[axis] = total;
    return new RingTensor(out, shape);
  }

  /** Concatenation of [N, C_i, ...] tensors along the channel axis: concat(parts, 1). */
  static concatChannels(parts: readonly RingTensor[]): RingTensor {
    if (parts.length > 0 && parts[0]!.ndim < 2) throw new RangeError(`concatChannels needs at least 2 dimensions, got [${parts[0]!.shape.join(',')}]`);
    return RingTensor.concat(parts, 1);
  }

  /** out[i] = this.data[idx[i]] (flat indices), with the given shape. Copies 32-bit word pairs. */
  gather(idx: Int32Array | readonly number[], shape: readonly number[] = [idx.length]): RingTensor {
    const out = new BigInt64Array(idx.length);
    const o = words(out), s = words(this.data), n = this.size;
    for (let i = 0; i < idx.length; i++) {
      const at = idx[i]!;
      if (!(at >= 0 && at < n)) throw new RangeError(`"idx[${i}]" expected an index in [0, ${n}), got ${at}`);
      o[2 * i] = s[2 * at]!;
      o[2 * i + 1] = s[2 * at + 1]!;
    }
    return new RingTensor(out, shape);
  }

  /** Permutes dimensions: result dim i is input dim perm[i]. Copies 32-bit word pairs, no BigInt. */
  transpose(perm: readonly number[]): RingTensor {
    const nd = this.ndim;
    if (perm.length !== nd || [...perm].sort((a, b) => a - b).some((p, i) => p !== i))
      throw new RangeError(`"perm" expected a permutation of 0..${nd - 1}, got [${perm.join(',')}]`);
    const shape = perm.map((p) => this.shape[p]!);
    const inStride = new Array<number>(nd);
    for (let i = nd - 1, s = 1; i >= 0; i--) {
      inStride[i] = s;
      s *= this.shape[i]!;
    }
    const stride = perm.map((p) => inStride[p]!);
    const out = new BigInt64Array(this.size);
    const src = words(this.data), dst = words(out);
    const idx = new Array<number>(nd).fill(0);
    let off = 0;
    for (let i = 0; i < this.size; i++) {
      dst[2 * i] = src[2 * off]!;
      dst[2 * i + 1] = src[2 * off + 1]!;
      for (let d = nd - 1; d >= 0; d--) {
        idx[d]!++;
        off += stride[d]!;
        if (idx[d]! < shape[d]!) break;
        off -= stride[d]! * shape[d]!;
        idx[d] = 0;
      }
    }
    return new RingTensor(out, shape);
  }

  /** True when shapes and all values are equal. */
  equals(b: RingTensor): boolean {
    if (b.ndim !== this.ndim || b.shape.some((d, i) => d !== this.shape[i])) return false;
    const x = words(this.data), y = words(b.data);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    return true;
  }

  toString(): string {
    const head = Array.from(this.data.subarray(0, 8), String).join(', ');
    return `RingTensor[${this.shape.join('x')}](${head}${this.size > 8 ? ', …' : ''})`;
  }
}
