/**
 * Frames on the wire: a 16-byte fixed header, the tag, then the payload.
 *
 *   0  'S' 'I'      magic
 *   2  u8           version (1)
 *   3  u8           tag length T (1..255, printable ASCII)
 *   4  u32 LE       round depth (see ledger.ts)
 *   8  u32 LE       payload length, low word
 *  12  u32 LE       payload length, high word (lengths are < 2^53)
 *  16  T bytes      tag
 *  16+T            payload
 *
 * The decoder is incremental (any chunking of the byte stream), refuses bad magic, versions, tags and
 * lengths over its limit, and copies a payload only when it spans several chunks or is misaligned.
 * @module
 */
import { FrameError } from './errors.ts';

export const FRAME_VERSION = 1;
export const HEADER_BYTES = 16;
const MAGIC0 = 0x53, MAGIC1 = 0x49; // 'S', 'I'

/** One decoded frame. `payload` is 8-byte aligned, so typed-array views of it need no copy. */
export interface Frame {
  tag: string;
  depth: number;
  payload: Uint8Array;
}

function checkTag(tag: string): Uint8Array {
  if (typeof tag !== 'string' || tag.length < 1 || tag.length > 255 || !/^[\x21-\x7e]+$/.test(tag))
    throw new FrameError(`tag must be 1..255 printable ASCII characters without spaces, got ${JSON.stringify(tag)}`);
  return new TextEncoder().encode(tag);
}

/** Encodes the header (with tag) of a frame whose payload has `length` bytes. */
export function encodeHeader(tag: string, depth: number, length: number): Uint8Array {
  const t = checkTag(tag);
  if (!Number.isSafeInteger(length) || length < 0) throw new FrameError(`payload length must be a safe integer >= 0, got ${length}`);
  if (!Number.isInteger(depth) || depth < 0 || depth > 0xffffffff) throw new FrameError(`depth must be a u32, got ${depth}`);
  const h = new Uint8Array(HEADER_BYTES + t.length);
  const v = new DataView(h.buffer);
  h[0] = MAGIC0;
  h[1] = MAGIC1;
  h[2] = FRAME_VERSION;
  h[3] = t.length;
  v.setUint32(4, depth, true);
  v.setUint32(8, length % 0x100000000, true);
  v.setUint32(12, Math.floor(length / 0x100000000), true);
  h.set(t, HEADER_BYTES);
  return h;
}

/** Options of a decoder. */
export interface DecoderOptions {
  /** Largest payload accepted, in bytes. */
  maxPayload: number;
}

/**
 * Incremental frame decoder: push() chunks in, get complete frames out. After a FrameError the
 * decoder is unusable (the stream is out of sync); the owner closes the connection.
 */
export class FrameDecoder {
  private readonly maxPayload: number;
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private header: { tag: string; depth: number; length: number } | null = null;
  private failed = false;

  constructor(opts: DecoderOptions) {
    this.maxPayload = opts.maxPayload;
  }

  /** Bytes held that are not yet part of a returned frame. */
  get pending(): number {
    return this.buffered;
  }

  /** Hands back the bytes not yet part of a frame (for passing a stream on to another decoder). */
  drain(): Uint8Array[] {
    if (this.header !== null) throw new FrameError('cannot drain in the middle of a frame');
    const c = this.chunks;
    this.chunks = [];
    this.buffered = 0;
    return c;
  }

  /**
   * Adds a chunk of the stream; returns the frames it completes (at most `maxFrames`; bytes past them
   * stay buffered). @throws {FrameError}
   */
  push(chunk: Uint8Array, maxFrames = Infinity): Frame[] {
    if (this.failed) throw new FrameError('decoder already failed');
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const out: Frame[] = [];
    try {
      while (out.length < maxFrames) {
        if (this.header === null) {
          if (this.buffered < HEADER_BYTES) break;
          const fixed = this.peek(HEADER_BYTES);
          const tagLen = this.parseFixed(fixed);
          if (this.buffered < HEADER_BYTES + tagLen.tagLen) break;
          const all = this.take(HEADER_BYTES + tagLen.tagLen, false);
          const tagBytes = all.subarray(HEADER_BYTES);
          for (const b of tagBytes) if (b < 0x21 || b > 0x7e) throw new FrameError('frame tag is not printable ASCII');
          this.header = { tag: new TextDecoder().decode(tagBytes), depth: tagLen.depth, length: tagLen.length };
        }
        if (this.buffered < this.header.length) break;
        const payload = this.take(this.header.length, true);
        out.push({ tag: this.header.tag, depth: this.header.depth, payload });
        this.header = null;
      }
    } catch (e) {
      this.failed = true;
      this.chunks = [];
      this.buffered = 0;
      throw e;
    }
    return out;
  }

  private parseFixed(h: Uint8Array): { tagLen: number; depth: number; length: number } {
    if (h[0] !== MAGIC0 || h[1] !== MAGIC1) throw new FrameError(`bad frame magic 0x${h[0]!.toString(16)}${h[1]!.toString(16)} (not an si link, or out of sync)`);
    if (h[2] !== FRAME_VERSION) throw new FrameError(`unsupported frame version ${h[2]} (this side speaks ${FRAME_VERSION})`);
    const tagLen = h[3]!;
    if (tagLen === 0) throw new FrameError('frame tag is empty');
    const v = new DataView(h.buffer, h.byteOffset, h.byteLength);
    const depth = v.getUint32(4, true);
    const lo = v.getUint32(8, true), hi = v.getUint32(12, true);
    if (hi >= 0x200000) throw new FrameError('frame length does not fit in 53 bits');
    const length = hi * 0x100000000 + lo;
    if (length > this.maxPayload) throw new FrameError(`frame of ${length} bytes is over the limit of ${this.maxPayload} bytes`);
    return { tagLen, depth, length };
  }

  /** The first n buffered bytes, without consuming them. */
  private peek(n: number): Uint8Array {
    const first = this.chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    return this.gather(n, false);
  }

  /** Consumes n bytes; `aligned` asks for an 8-byte-aligned result (copied if the source is not). */
  private take(n: number, aligned: boolean): Uint8Array {
    if (n === 0) return new Uint8Array(0);
    const first = this.chunks[0]!;
    let out: Uint8Array;
    if (first.length >= n && (!aligned || first.byteOffset % 8 === 0)) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.buffered -= n;
      return out;
    }
    out = this.gather(n, true);
    return out;
  }

  /** Copies the first n bytes into a fresh (aligned) buffer, consuming them if `consume`. */
  private gather(n: number, consume: boolean): Uint8Array {
    const out = new Uint8Array(n);
    let o = 0, i = 0;
    while (o < n) {
      const c = this.chunks[i]!;
      const m = Math.min(c.length, n - o);
      out.set(c.subarray(0, m), o);
      o += m;
      if (consume) {
        if (m === c.length) this.chunks.shift();
        else this.chunks[0] = c.subarray(m);
      } else i++;
    }
    if (consume) this.buffered -= n;
    return out;
  }
}
