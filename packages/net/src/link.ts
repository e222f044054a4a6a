/**
 * Link: an ordered channel of tagged binary messages between this party and one peer, over any
 * transport (memory, TCP, TLS). Every message passes through here, so the ledger sees all traffic.
 *
 * Messages are strictly ordered: recv(tag) takes the next message and fails with a ProtocolError if its
 * tag (or size) is not the expected one. The peer closing or dying rejects every pending and future
 * receive with a LinkClosedError naming the peer; a receive that waits longer than the timeout rejects
 * with LinkTimeoutError and closes the link. Received frames beyond `maxQueuedBytes` pause the
 * transport (no unbounded buffering).
 *
 * Two control messages travel in band, after the data sent before them: `close()` sends a bye (the
 * session ended normally) and `abort(reason)` sends the reason of a failure, so a party that fails can
 * tell the others why instead of leaving them waiting. A link that ends any other way (the peer died,
 * a timeout, malformed data, an abort) is a failure, reported to `onFailure` listeners.
 * @module
 */
import { FrameDecoder, encodeHeader, type Frame } from './frame.ts';
import { FrameError, LinkClosedError, LinkTimeoutError, ProtocolError } from './errors.ts';
import { Ledger } from './ledger.ts';

/** What a transport calls back into. */
export interface Sink {
  data(chunk: Uint8Array): void;
  close(err?: Error): void;
}

/** A byte stream to the peer. write() must not keep references to `parts` beyond the call unless it owns copies. */
export interface Transport {
  write(parts: Uint8Array[]): void;
  /** Graceful close (flush, then end). */
  end(): void;
  /** Immediate close. */
  destroy(err?: Error): void;
  pause(): void;
  resume(): void;
  bind(sink: Sink): void;
  /** Human-readable endpoint, for messages. */
  readonly describe: string;
}

export interface LinkOptions {
  /** Receive timeout in milliseconds (default 120 000; 0 = none). */
  timeoutMs?: number;
  /** Largest message accepted, in bytes (default 1 GiB). */
  maxPayload?: number;
  /** Received-but-unread bytes above which reading from the transport pauses (default 256 MiB). */
  maxQueuedBytes?: number;
  /** Ledger to record into (one per party, shared by its links). */
  ledger?: Ledger;
}

/** Typed arrays or a list of them (sent back to back as one message). */
export type Payload = ArrayBufferView | readonly ArrayBufferView[];

/** Tags reserved for control messages; protocols cannot send them. */
const BYE = 'si-bye', ABORT = 'si-abort', ALIVE = 'si-alive';

interface Waiter {
  tag: string;
  bytes: number | undefined;
  record: (peer: string, bytes: number, depth: number) => void;
  resolve(p: Uint8Array): void;
  reject(e: Error): void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

function asBytes(v: ArrayBufferView): Uint8Array {
  return v instanceof Uint8Array ? v : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

export class Link {
  readonly ledger: Ledger;
  private readonly decoder: FrameDecoder;
  private readonly timeoutMs: number;
  private readonly maxQueued: number;
  private queue: Frame[] = [];
  private queuedBytes = 0;
  private waiters: Waiter[] = [];
  private paused = false;
  private closedWith: LinkClosedError | null = null;
  private readonly failureListeners: ((e: LinkClosedError) => void)[] = [];
  /** The link ended by a close() on either side (not a failure). */
  private graceful = false;
  private lastHeard = Date.now();
  private lastSent = Date.now();
  private readonly keepalive: ReturnType<typeof setInterval> | undefined;

  /**
   * @param self - this party's name (e.g. 'client')
   * @param peer - the peer's name, used in every error message
   */
  constructor(readonly self: string, readonly peer: string, private readonly transport: Transport, opts: LinkOptions = {}) {
    this.ledger = opts.ledger ?? new Ledger();
    this.timeoutMs = opts.timeoutMs ?? 120_000;
    this.maxQueued = opts.maxQueuedBytes ?? 256 * 2 ** 20;
    this.decoder = new FrameDecoder({ maxPayload: opts.maxPayload ?? 2 ** 30 });
    // A live peer is never silent for long: while nothing else goes out, a small control frame does, so a
    // receive times out only on a peer that is gone or stalled, not on one waiting for a third party.
    if (this.timeoutMs > 0) {
      const every = Math.max(5, Math.min(1000, this.timeoutMs / 4));
      this.keepalive = setInterval(() => Date.now() - this.lastSent >= every && !this.closedWith && this.control(ALIVE, ''), every);
      this.keepalive.unref?.();
    }
    transport.bind({
      data: (chunk) => this.onData(chunk),
      close: (err) => this.fail(new LinkClosedError(peer, `link to ${peer} (${transport.describe}) closed${err ? `: ${err.message}` : ' by the peer'}`, { cause: err })),
    });
  }

  /** Calls `fn` once if the link fails (anything but a close by either side's close()). */
  onFailure(fn: (e: LinkClosedError) => void): void {
    if (this.closedWith && !this.graceful) fn(this.closedWith);
    else this.failureListeners.push(fn);
  }


  /** True once the link is closed (by either side or by an error). */
  get closed(): boolean {
    return this.closedWith !== null;
  }

  /**
   * Sends one message. Payload bytes go to the ledger under the current scope.
   * @throws {LinkClosedError} when the link is closed
   */
  send(tag: string, payload: Payload): void {
    if (this.closedWith) throw this.closedWith;
    if (tag === BYE || tag === ABORT || tag === ALIVE) throw new RangeError(`"${tag}" is a reserved control tag`);
    const parts = (ArrayBuffer.isView(payload) ? [payload] : payload).map(asBytes);
    let length = 0;
    for (const p of parts) length += p.length;
    const header = encodeHeader(tag, 0, length);
    const depth = this.ledger.recordSend(this.peer, length, header.length);
    new DataView(header.buffer).setUint32(4, depth, true);
    this.lastSent = Date.now();
    this.transport.write([header, ...parts]);
  }

  /**
   * Receives the next message, which must carry `tag` (and be `bytes` long, when given).
   * @returns the payload, 8-byte aligned
   * @throws {ProtocolError} on a different tag or size; {LinkClosedError} when the link closes first;
   *   {LinkTimeoutError} after the timeout
   */
  recv(tag: string, bytes?: number): Promise<Uint8Array> {
    const record = this.ledger.receiver();
    return new Promise<Uint8Array>((resolve, reject) => {
      const w: Waiter = { tag, bytes, record, resolve, reject, timer: undefined };
      const ready = this.queue.shift();
      if (ready !== undefined) {
        this.deliver(w, ready, true);
        return;
      }
      if (this.closedWith) {
        reject(this.closedWith);
        return;
      }
      const arm = (ms: number): void => {
        w.timer = setTimeout(() => {
          const quiet = Date.now() - this.lastHeard;
          if (quiet < this.timeoutMs) arm(this.timeoutMs - quiet);
          else this.fail(new LinkTimeoutError(this.peer, `no message "${tag}" from ${this.peer} within ${this.timeoutMs} ms (nothing at all from the ${this.peer}: stalled or unreachable)`));
        }, ms);
      };
      if (this.timeoutMs > 0) arm(this.timeoutMs);
      this.waiters.push(w);
    });
  }

  /** Receives `n` ring elements (the message must be exactly 8n bytes). */
  async recvI64(tag: string, n: number): Promise<BigInt64Array> {
    const p = await this.recv(tag, n * 8);
    return new BigInt64Array(p.buffer, p.byteOffset, n);
  }

  /**
   * Sends then receives a message with the same tag (both sides call it: one round). The send comes
   * first so that a peer message already queued does not count as received before ours went out.
   */
  exchange(tag: string, payload: Payload, bytes?: number): Promise<Uint8Array> {
    this.send(tag, payload);
    return this.recv(tag, bytes);
  }

  /** Exchanges ring elements: sends `mine`, receives as many from the peer. */
  async exchangeI64(tag: string, mine: BigInt64Array): Promise<BigInt64Array> {
    const p = await this.exchange(tag, mine, mine.byteLength);
    return new BigInt64Array(p.buffer, p.byteOffset, mine.length);
  }

  /** Ends the session on this link normally: the peer is told (after the data already sent); pending receives reject. */
  close(): void {
    if (this.closedWith) return;
    this.control(BYE, '');
    this.graceful = true;
    this.fail(new LinkClosedError(this.peer, `link to ${this.peer} was closed by ${this.self}`), false);
    this.transport.end();
  }

  /** Ends the link because of a failure elsewhere; the peer's pending and later receives fail with `reason`. */
  abort(reason: string): void {
    if (this.closedWith) return;
    this.control(ABORT, reason);
    this.fail(new LinkClosedError(this.peer, `link to ${this.peer} aborted by ${this.self}: ${reason}`), false);
    this.transport.end();
  }

  private control(tag: string, text: string): void {
    const body = new TextEncoder().encode(text.slice(0, 2000));
    this.lastSent = Date.now();
    this.transport.write([encodeHeader(tag, 0, body.length), body]);
  }

  private onData(chunk: Uint8Array): void {
    if (this.closedWith) return;
    this.lastHeard = Date.now();
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (e) {
      const err = e instanceof FrameError ? e : new FrameError(String(e));
      this.fail(new ProtocolError(this.peer, `malformed data from ${this.peer}: ${err.message}`, { cause: err }));
      return;
    }
    for (const f of frames) {
      if (f.tag === ALIVE) continue;
      if (f.tag === BYE || f.tag === ABORT) {
        const why = new TextDecoder().decode(f.payload);
        if (f.tag === BYE) this.graceful = true;
        const msg = f.tag === BYE ? `${this.peer} ended the session` : `${this.peer} aborted: ${why}`;
        this.fail(new LinkClosedError(this.peer, msg), false);
        this.transport.end();
        return;
      }
      const w = this.waiters.shift();
      if (w !== undefined) this.deliver(w, f, false);
      else {
        this.queue.push(f);
        this.queuedBytes += f.payload.length;
      }
    }
    if (!this.paused && this.queuedBytes + this.decoder.pending > this.maxQueued) {
      this.paused = true;
      this.transport.pause();
    }
  }

  private deliver(w: Waiter, f: Frame, fromQueue: boolean): void {
    if (w.timer !== undefined) clearTimeout(w.timer);
    if (fromQueue) {
      this.queuedBytes -= f.payload.length;
      if (this.paused && this.queuedBytes + this.decoder.pending <= this.maxQueued / 2) {
        this.paused = false;
        this.transport.resume();
      }
    }
    if (f.tag !== w.tag) {
      const e = new ProtocolError(this.peer, `expected message "${w.tag}" from ${this.peer}, got "${f.tag}" (${f.payload.length} bytes): the parties are out of step`);
      w.reject(e);
      this.fail(e);
      return;
    }
    if (w.bytes !== undefined && f.payload.length !== w.bytes) {
      const e = new ProtocolError(this.peer, `message "${w.tag}" from ${this.peer} has ${f.payload.length} bytes, expected ${w.bytes}`);
      w.reject(e);
      this.fail(e);
      return;
    }
    w.record(this.peer, f.payload.length, f.depth);
    w.resolve(f.payload);
  }

  /**
   * Closes the link with an error: every waiting receive rejects with it; later receives get it once the
   * queue is empty; sends throw it. Failure listeners hear of it unless the close was graceful.
   */
  private fail(err: LinkClosedError, destroy = true): void {
    if (this.closedWith) return;
    this.closedWith = err;
    clearInterval(this.keepalive);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) {
      if (w.timer !== undefined) clearTimeout(w.timer);
      w.reject(err);
    }
    if (destroy) this.transport.destroy(err);
    if (!this.graceful) for (const fn of this.failureListeners.splice(0)) fn(err);
  }
}
