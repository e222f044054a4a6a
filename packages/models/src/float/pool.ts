/**
 * Reused typed arrays for the float engine. On the development VM a fresh page costs ~15 us and the
 * allocator hands zeroed blocks of a few MB back to the OS, so allocating every activation anew costs
 * more than computing it; the engine takes buffers from a pool and gives them back with `release`.
 * @module
 */

export class BufferPool {
  private readonly free = new Map<string, ArrayBufferView[]>();
  /** Buffers this pool made: release() keeps only these (others, e.g. a kernel's own results, go to GC). */
  private readonly mine = new WeakSet<ArrayBufferView>();
  private held = 0;

  private take<T extends Float32Array | Uint8Array | Int32Array>(kind: string, n: number, make: (n: number) => T): T {
    const list = this.free.get(`${kind}${n}`);
    const got = list?.pop() as T | undefined;
    if (got) {
      this.held -= got.byteLength;
      return got;
    }
    const made = make(n);
    this.mine.add(made);
    return made;
  }

  /** A Float32Array of n values (contents undefined unless `zero`). */
  f32(n: number, zero = false): Float32Array {
    const a = this.take('f', n, (k) => new Float32Array(k));
    if (zero) a.fill(0);
    return a;
  }

  u8(n: number): Uint8Array {
    return this.take('u', n, (k) => new Uint8Array(k));
  }

  i32(n: number): Int32Array {
    return this.take('i', n, (k) => new Int32Array(k));
  }

  /**
   * Gives buffers back (each at most once; the caller must not use them afterwards). Buffers the pool did
   * not make are ignored, so the pool never grows beyond what it handed out.
   */
  release(...arrays: (ArrayBufferView | null | undefined)[]): void {
    for (const a of arrays) {
      if (!a || !this.mine.has(a)) continue;
      const kind = a instanceof Float32Array ? 'f' : a instanceof Uint8Array ? 'u' : a instanceof Int32Array ? 'i' : null;
      if (!kind) continue;
      const key = `${kind}${(a as Float32Array).length}`;
      let list = this.free.get(key);
      if (!list) this.free.set(key, (list = []));
      list.push(a);
      this.held += a.byteLength;
    }
  }

  /** Bytes held for reuse. */
  get bytes(): number {
    return this.held;
  }

  clear(): void {
    this.free.clear();
    this.held = 0;
  }
}

/** The engine's default pool. */
export const defaultPool = new BufferPool();
