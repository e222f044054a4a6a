/**
 * Frames on the wire: a 16-byte fixed header, the tag, the channel, the round stamps, then the payload.
 *
 *   0  'S' 'I'      magic
 *   2  u8           version (2)
 *   3  u8           tag length T (1..255, printable ASCII)
 *   4  u16 LE       channel length C (0..4096)
 *   6  u16 LE       stamp count S (0..64)
 *   8  u32 LE       payload length, low word
 *  12  u16 LE       payload length, high bits (lengths are < 2^48)
 *  14  u16          reserved, 0
 *  16  T bytes      tag
 *  16+T  C bytes    channel: the sender's scope label (UTF-8), which the receiver matches to its own
 *  16+T+C  4S bytes round stamps, u32 LE: the message's causal depth in each scope of the channel's path,
 *                   outermost (the root) first (see ledger.ts)
 *  16+T+C+4S       payload
 *
 * The channel lets protocols that run concurrently under sibling scopes share one link: a receive takes
 * the next message with its tag on its own scope's channel (link.ts).
 *
 * The decoder is incremental (any chunking of the byte stream), refuses bad magic, versions, tags,
 * channels and lengths over its limit, and copies a payload only when it spans several chunks or is
 * misaligned.
 * @module
 */
import { FrameError } from './errors.ts';

export const FRAME_VERSION = 2;
/** Longest channel (scope label) in bytes. */
export const MAX_CHANNEL_BYTES = 4096;
/** Most round stamps (scope nesting levels) in a frame. */
export const MAX_STAMPS = 64;
export const HEADER_BYTES = 16;
const MAGIC0 = 0x53, MAGIC1 = 0x49; // 'S', 'I'

/** One decoded frame. `payload` is 8-byte aligned, so typed-array views of it need no copy. */
export interface Frame {
  tag: string;
  /** The sender's scope label ('' outside any scope). */
  channel: string;
  /** Causal depth in each scope of the channel's path, outermost first. */
  stamps: Uint32Array;
  payload: Uint8Array;
}

function checkTag(tag: string): Uint8Array {
  if (typeof tag !== 'string' || tag.length < 1 || tag.length > 255 || !/^[\x21-\x7e]+$/.test(tag))
    throw new FrameError(`tag must be 1..255 printable ASCII characters without spaces, got ${JSON.stringify(tag)}`);
  return new TextEncoder().encode(tag);
}

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Encodes the header (tag, channel, round stamps) of a frame whose payload has `length` bytes. */
export function encodeHeader(tag: string, stamps: ArrayLike<number>, length: number, channel = ''): Uint8Array {
  const t = checkTag(tag);
  if (typeof channel !== 'string') throw new FrameError(`channel must be a string, got ${typeof channel}`);
  const c = utf8.encode(channel);
  if (c.length > MAX_CHANNEL_BYTES) throw new FrameError(`channel ${JSON.stringify(channel.slice(0, 60))}... is ${c.length} bytes, over the limit of ${MAX_CHANNEL_BYTES}`);
  if (!Number.isSafeInteger(length) || length < 0 || length >= 2 ** 48) throw new FrameError(`payload length must be an integer in [0, 2^48), got ${length}`);
  if (stamps.length > MAX_STAMPS) throw new FrameError(`${stamps.length} round stamps, over the limit of ${MAX_STAMPS}`);
  for (let i = 0; i < stamps.length; i++) {
    const d = stamps[i]!;
    if (!Number.isInteger(d) || d < 0 || d > 0xffffffff) throw new FrameError(`round stamp ${i} must be a u32, got ${d}`);
  }
  const base = HEADER_BYTES + t.length + c.length;
  const h = new Uint8Array(base + 4 * stamps.length);
  const v = new DataView(h.buffer);
  h[0] = MAGIC0;
  h[1] = MAGIC1;
  h[2] = FRAME_VERSION;
  h[3] = t.length;
  v.setUint16(4, c.length, true);
  v.setUint16(6, stamps.length, true);
  v.setUint32(8, length % 0x100000000, true);
  v.setUint16(12, Math.floor(length / 0x100000000), true);
  h.set(t, HEADER_BYTES);
  h.set(c, HEADER_BYTES + t.length);
  for (let i = 0; i < stamps.length; i++) v.setUint32(base + 4 * i, stamps[i]!, true);
  return h;
}

/** The header of the frame a decoder is in the middle of. */
export interface FrameHeader {
  tag: string;
  channel: string;
  length: number;
}

/** Options of a decoder. */
export interface DecoderOptions {
  /** Largest payload accepted, in bytes. */
  maxPayload: number;
  /**
   * Called as soon as a frame's header is complete, before its payload: may throw (the frame is
   * refused: a FrameError or the owner's error propagates from push), or return a buffer of exactly
   * `length` bytes that the payload streams into (so a large expected frame is held once, not as
   * chunks and then a copy).
   */
  onHeader?(h: FrameHeader): Uint8Array | undefined;
}

/**
 * Incremental frame decoder: push() chunks in, get complete frames out. After a FrameError the
 * decoder is unusable (the stream is out of sync); the owner closes the connection.
 */
export class FrameDecoder {
  private readonly maxPayload: number;
  private readonly onHeader: DecoderOptions['onHeader'];
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private header: { tag: string; channel: string; stamps: Uint32Array; length: number; target?: Uint8Array; filled: number } | null = null;
  private failed = false;

  constructor(opts: DecoderOptions) {
    this.maxPayload = opts.maxPayload;
    this.onHeader = opts.onHeader;
  }

  /** Bytes held that are not yet part of a returned frame (a payload streaming into its buffer is not). */
  get pending(): number {
    return this.buffered;
  }

  /** The frame in progress (its header is in, its payload is not complete), or null. */
  get current(): FrameHeader | null {
    return this.header && { tag: this.header.tag, channel: this.header.channel, length: this.header.length };
  }

  /**
   * Streams the rest of the frame in progress into `target` (exactly its length), starting with the bytes
   * of it already buffered. The frame comes out of push() with `target` as its payload.
   */
  adopt(target: Uint8Array): void {
    const h = this.header;
    if (!h || h.target) throw new FrameError('no frame in progress to stream into a buffer');
    if (target.length !== h.length) throw new FrameError(`a buffer of ${target.length} bytes for a frame of ${h.length}`);
    h.target = target;
    this.fill();
  }

  /** Moves buffered bytes into the target of the frame in progress. */
  private fill(): void {
    const h = this.header!;
    while (h.filled < h.length && this.chunks.length > 0) {
      const c = this.chunks[0]!, m = Math.min(c.length, h.length - h.filled);
      h.target!.set(c.subarray(0, m), h.filled);
      h.filled += m;
      this.buffered -= m;
      if (m === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(m);
    }
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
          const f = this.parseFixed(fixed);
          const end = HEADER_BYTES + f.tagLen + f.channelLen;
          if (this.buffered < end + 4 * f.stampCount) break;
          const all = this.take(end + 4 * f.stampCount, false);
          const tagBytes = all.subarray(HEADER_BYTES, HEADER_BYTES + f.tagLen);
          for (const b of tagBytes) if (b < 0x21 || b > 0x7e) throw new FrameError('frame tag is not printable ASCII');
          let channel: string;
          try {
            channel = strictUtf8.decode(all.subarray(HEADER_BYTES + f.tagLen, end));
          } catch {
            throw new FrameError('frame channel is not UTF-8');
          }
          const sv = new DataView(all.buffer, all.byteOffset + end, 4 * f.stampCount);
          const stamps = Uint32Array.from({ length: f.stampCount }, (_, i) => sv.getUint32(4 * i, true));
          this.header = { tag: new TextDecoder().decode(tagBytes), channel, stamps, length: f.length, filled: 0 };
          const target = this.onHeader?.({ tag: this.header.tag, channel, length: f.length });
          if (target) this.adopt(target);
        }
        let payload: Uint8Array;
        if (this.header.target) {
          this.fill();
          if (this.header.filled < this.header.length) break;
          payload = this.header.target;
        } else {
          if (this.buffered < this.header.length) break;
          payload = this.take(this.header.length, true);
        }
        out.push({ tag: this.header.tag, channel: this.header.channel, stamps: this.header.stamps, payload });
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

  private parseFixed(h: Uint8Array): { tagLen: number; channelLen: number; stampCount: number; length: number } {
    if (h[0] !== MAGIC0 || h[1] !== MAGIC1) throw new FrameError(`bad frame magic 0x${h[0]!.toString(16)}${h[1]!.toString(16)} (not an si link, or out of sync)`);
    if (h[2] !== FRAME_VERSION) throw new FrameError(`unsupported frame version ${h[2]} (this side speaks ${FRAME_VERSION})`);
    const tagLen = h[3]!;
    if (tagLen === 0) throw new FrameError('frame tag is empty');
    const v = new DataView(h.buffer, h.byteOffset, h.byteLength);
    const channelLen = v.getUint16(4, true), stampCount = v.getUint16(6, true);
    const lo = v.getUint32(8, true), hi = v.getUint16(12, true);
    if (v.getUint16(14, true) !== 0) throw new FrameError('frame header has non-zero reserved bits');
    const length = hi * 0x100000000 + lo;
    if (length > this.maxPayload) throw new FrameError(`frame of ${length} bytes is over the limit of ${this.maxPayload} bytes`);
    if (channelLen > MAX_CHANNEL_BYTES) throw new FrameError(`frame channel of ${channelLen} bytes is over the limit of ${MAX_CHANNEL_BYTES}`);
    if (stampCount > MAX_STAMPS) throw new FrameError(`frame has ${stampCount} round stamps, over the limit of ${MAX_STAMPS}`);
    return { tagLen, channelLen, stampCount, length };
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
