/**
 * Argument guards. Each returns the value it checked; a wrong kind throws TypeError, a wrong value
 * RangeError, and the message names the argument: `"k" expected an integer in [1, 32], got 40`.
 * The check runs first; the message is only built when it is thrown.
 * @module
 */

function show(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(show).join(',')}]`;
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as unknown as ArrayLike<unknown>).length})`;
  if (v === null || typeof v !== 'object') return String(v);
  return Object.prototype.toString.call(v);
}

/** Asserts an integer in [min, max]. @throws {TypeError|RangeError} */
export function aint(n: unknown, title: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof n === 'number' && Number.isSafeInteger(n) && n >= min && n <= max) return n;
  if (typeof n !== 'number') throw new TypeError(`"${title}" expected a number, got ${show(n)}`);
  throw new RangeError(`"${title}" expected an integer in [${min}, ${max}], got ${show(n)}`);
}

/** Asserts a shape: a non-empty-or-empty array of non-negative safe integers. @throws {TypeError|RangeError} */
export function ashapeLike(shape: unknown, title: string): readonly number[] {
  if (!Array.isArray(shape)) throw new TypeError(`"${title}" expected an array of dimensions, got ${show(shape)}`);
  for (let i = 0; i < shape.length; i++) aint(shape[i], `${title}[${i}]`);
  return shape as number[];
}

/** Number of elements of a shape. */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * The shape `shape` (one dimension may be -1, inferred) for `size` elements.
 * @throws {RangeError} when it does not fit
 */
export function resolveShape(size: number, shape: readonly number[], from: readonly number[] = [size]): number[] {
  const s = [...shape];
  const free = s.indexOf(-1);
  if (free >= 0) {
    const rest = shapeSize(s.filter((_, i) => i !== free));
    if (rest === 0 || size % rest !== 0) throw new RangeError(`cannot reshape [${from.join(',')}] to [${shape.join(',')}]`);
    s[free] = size / rest;
  }
  if (shapeSize(ashapeLike(s, 'shape')) !== size) throw new RangeError(`cannot reshape [${from.join(',')}] (${size} elements) to [${shape.join(',')}]`);
  return s;
}

/** Asserts `got` equals `want`; -1 in `want` matches any size. @throws {RangeError} */
export function ashape(got: readonly number[], want: readonly number[], title: string): readonly number[] {
  let ok = got.length === want.length;
  for (let i = 0; ok && i < want.length; i++) ok = want[i] === -1 || want[i] === got[i];
  if (ok) return got;
  const w = want.map((d) => (d === -1 ? '*' : String(d))).join(',');
  throw new RangeError(`"${title}" expected shape [${w}], got [${got.join(',')}]`);
}

/** Asserts a BigInt64Array of a given length (any length if omitted). @throws {TypeError|RangeError} */
export function ai64(v: unknown, title: string, length?: number): BigInt64Array {
  if (!(v instanceof BigInt64Array)) throw new TypeError(`"${title}" expected a BigInt64Array, got ${show(v)}`);
  if (length !== undefined && v.length !== length)
    throw new RangeError(`"${title}" expected ${length} elements, got ${v.length}`);
  return v;
}

/** Asserts a Uint8Array (of a given length if set). @throws {TypeError|RangeError} */
export function abytes(v: unknown, title: string, length?: number): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new TypeError(`"${title}" expected a Uint8Array, got ${show(v)}`);
  if (length !== undefined && v.length !== length)
    throw new RangeError(`"${title}" expected ${length} bytes, got ${v.length}`);
  return v;
}

/** Asserts a function. @throws {TypeError} */
export function afn<T extends (...args: never[]) => unknown>(v: unknown, title: string): T {
  if (typeof v !== 'function') throw new TypeError(`"${title}" expected a function, got ${show(v)}`);
  return v as T;
}
