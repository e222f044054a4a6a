/**
 * Link: an ordered channel of tagged binary messages between this party and one peer, over any
 * transport (memory, TCP, TLS). Every message passes through here, so the ledger sees all traffic.
 *
 * Every message travels on a channel, the label of the sender's scope (ledger.ts), and carries a tag.
 * recv(tag, bytes, scope) takes the next message with that tag on that scope's channel, so protocols
 * running concurrently under sibling scopes share the link without taking each other's messages; on one
 * channel, messages with one tag arrive in the order they were sent. A message of the wrong size fails
 * with a ProtocolError. The peer closing or dying rejects every pending and future receive with a
 * LinkClosedError naming the peer; a receive that hears nothing at all from the peer within the timeout
 * rejects with LinkTimeoutError and closes the link, and one that waits that long while messages nothing
 * waits for sit in the queue fails as out of step. Received frames beyond `maxQueuedBytes` pause the
 * transport while no receive waits (a waiting receive's message may be behind them); messages nothing
 * waits for beyond four times that fail the link (no unbounded buffering). A frame a receive waits for
 * is checked against the expected size as soon as its header arrives, and a large one (1 MiB and up)
 * streams into a single buffer as it comes, whatever its size (up to `maxPayload`, 4 GiB).
 *
 * Two control messages travel in band, after the data sent before them: `close()` sends a bye (the
 * session ended normally) and `abort(reason)` sends the reason of a failure, so a party that fails can
 * tell the others why instead of leaving them waiting. A link that ends any other way (the peer died,
 * a timeout, malformed data, an abort) is a failure, reported to `onFailure` listeners.
 * @module
 */
import { FrameDecoder, encodeHeader, type Frame, type FrameHeader } from './frame.ts';
import { FrameError, LinkClosedError, LinkTimeoutError, ProtocolError } from './errors.ts';
import { Ledger, type Scope } from './ledger.ts';

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
  /** Bytes unique to this connection that both ends can compute (TLS exported keying material), if any. */
  channelBinding?(): Uint8Array | undefined;
}

export interface LinkOptions {
  /** Receive timeout in milliseconds (default 120 000; 0 = none). */
  timeoutMs?: number;
  /** Largest message accepted, in bytes (default 4 GiB). */
  maxPayload?: number;
  /** Received-but-unread bytes above which reading from the transport pauses (default 256 MiB). */
  maxQueuedBytes?: number;
  /** Ledger to record into (one per party, shared by its links). */
  ledger?: Ledger;
}

/** A message as an observer of a link sees it (see Link.observe). */
export interface Received {
  /** The sender. */
  peer: string;
  /** The sender's scope label (the channel). */
  channel: string;
  tag: string;
  payload: Uint8Array;
}

/** Typed arrays or a list of them (sent back to back as one message). */
export type Payload = ArrayBufferView | readonly ArrayBufferView[];

/** Tags reserved for control messages; protocols cannot send them. */
const BYE = 'si-bye', ABORT = 'si-abort', ALIVE = 'si-alive';

interface Waiter {
  key: string;
  tag: string;
  scope: Scope;
  bytes: number | undefined;
  since: number;
  resolve(p: Uint8Array): void;
  reject(e: Error): void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

interface Queued extends Frame {
  at: number;
}

/** Payloads from this size on stream into their receive's buffer as they arrive. */
const STREAM_BYTES = 1 << 20;

const keyOf = (channel: string, tag: string): string => `${channel}\u0000${tag}`;
const where = (channel: string): string => (channel === '' ? '' : ` in scope "${channel}"`);

function asBytes(v: ArrayBufferView): Uint8Array {
  return v instanceof Uint8Array ? v : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/** A link seen from one scope: every send and receive on it runs in that scope (its channel and ledger row). */
export class Channel {
  constructor(readonly link: Link, readonly scope: Scope) {}

  get peer(): string {
    return this.link.peer;
  }

  send(tag: string, payload: Payload): void {
    this.link.send(tag, payload, this.scope);
  }

  recv(tag: string, bytes?: number): Promise<Uint8Array> {
    return this.link.recv(tag, bytes, this.scope);
  }

  recvI64(tag: string, n: number): Promise<BigInt64Array> {
    return this.link.recvI64(tag, n, this.scope);
  }

  exchange(tag: string, payload: Payload, bytes?: number): Promise<Uint8Array> {
    return this.link.exchange(tag, payload, bytes, this.scope);
  }

  exchangeI64(tag: string, mine: BigInt64Array): Promise<BigInt64Array> {
    return this.link.exchangeI64(tag, mine, this.scope);
  }
}

export class Link {
  readonly ledger: Ledger;
  private readonly decoder: FrameDecoder;
  private readonly timeoutMs: number;
  private readonly maxQueued: number;
  private readonly queue = new Map<string, Queued[]>();
  private queuedBytes = 0;
  private readonly waiters = new Map<string, Waiter[]>();
  private waiting = 0;
  private paused = false;
  private closedWith: LinkClosedError | null = null;
  private readonly failureListeners: ((e: LinkClosedError) => void)[] = [];
  private readonly observers = new Set<(m: Received) => void>();
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
    this.decoder = new FrameDecoder({ maxPayload: opts.maxPayload ?? 2 ** 32, onHeader: (h) => this.expected(h) });
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

  /** This link seen from a scope (see Channel). */
  at(scope: Scope): Channel {
    return new Channel(this, scope);
  }

  /** Calls `fn` once if the link fails (anything but a close by either side's close()). */
  onFailure(fn: (e: LinkClosedError) => void): void {
    if (this.closedWith && !this.graceful) fn(this.closedWith);
    else this.failureListeners.push(fn);
  }

  /**
   * Calls `fn` with every protocol message this side receives (after its size is checked, before the
   * protocol sees it; control messages excluded): for audits of what a party sees, and view tests.
   * `fn` must not modify the payload.
   * @returns a function that stops the calls
   */
  observe(fn: (m: Received) => void): () => void {
    this.observers.add(fn);
    return () => void this.observers.delete(fn);
  }

  /**
   * Bytes both ends of this connection compute and no other connection shares (TLS exported keying
   * material); undefined for in-memory and plain TCP links. Bind keys agreed over the link to it.
   */
  get channelBinding(): Uint8Array | undefined {
    return this.transport.channelBinding?.();
  }

  /** True once the link is closed (by either side or by an error). */
  get closed(): boolean {
    return this.closedWith !== null;
  }

  private scopeOf(scope: Scope | undefined): Scope {
    const s = scope ?? this.ledger.root;
    if (s.ledger !== this.ledger) throw new Error(`scope "${s.label}" belongs to another ledger than the ${this.self}'s link to the ${this.peer}`);
    return s;
  }

  /**
   * Sends one message on `scope`'s channel (default: the root scope). Payload bytes go to the ledger
   * under that scope.
   * @throws {LinkClosedError} when the link is closed
   */
  send(tag: string, payload: Payload, scope?: Scope): void {
    if (this.closedWith) throw this.closedWith;
    if (tag === BYE || tag === ABORT || tag === ALIVE) throw new RangeError(`"${tag}" is a reserved control tag`);
    const s = this.scopeOf(scope);
    const parts = (ArrayBuffer.isView(payload) ? [payload] : payload).map(asBytes);
    let length = 0;
    for (const p of parts) length += p.length;
    const header = encodeHeader(tag, this.ledger.stamps(s), length, s.label);
    this.ledger.recordSend(s, this.peer, length, header.length);
    this.lastSent = Date.now();
    this.transport.write([header, ...parts]);
  }

  /**
   * Receives the next message with `tag` on `scope`'s channel (and `bytes` long, when given).
   * @returns the payload, 8-byte aligned
   * @throws {ProtocolError} on a different size, or when out of step; {LinkClosedError} when the link
   *   closes first; {LinkTimeoutError} after the timeout
   */
  recv(tag: string, bytes?: number, scope?: Scope): Promise<Uint8Array> {
    const s = this.scopeOf(scope);
    const key = keyOf(s.label, tag);
    return new Promise<Uint8Array>((resolve, reject) => {
      const w: Waiter = { key, tag, scope: s, bytes, since: Date.now(), resolve, reject, timer: undefined };
      const ready = this.queue.get(key)?.shift();
      if (ready !== undefined) {
        this.unqueue(key, ready);
        this.deliver(w, ready);
        return;
      }
      if (this.closedWith) {
        reject(this.closedWith);
        return;
      }
      let list = this.waiters.get(key);
      if (!list) this.waiters.set(key, (list = []));
      list.push(w);
      this.waiting++;
      // The frame in progress may be this one: check its size now and stream the rest into one buffer.
      const cur = this.decoder.current;
      if (list.length === 1 && cur && keyOf(cur.channel, cur.tag) === key) {
        try {
          const target = this.expected(cur);
          if (target) this.decoder.adopt(target);
        } catch (e) {
          this.fail(e as ProtocolError);
          return;
        }
      }
      if (this.timeoutMs > 0) this.arm(w, this.timeoutMs);
      // Its message is not queued, so it is further down the stream: read on.
      if (this.paused) this.setPaused(false);
    });
  }

  /**
   * A frame's header is in. When a receive waits for it, its declared length is checked now (a wrong
   * size fails at once, not after the payload), and a large payload streams into one buffer.
   */
  private expected(h: FrameHeader): Uint8Array | undefined {
    const w = this.waiters.get(keyOf(h.channel, h.tag))?.[0];
    if (!w) return undefined;
    if (w.bytes !== undefined && w.bytes !== h.length)
      throw new ProtocolError(this.peer, `message "${h.tag}"${where(h.channel)} from ${this.peer} has ${h.length} bytes, expected ${w.bytes} (refused at its header, before the payload)`);
    return h.length >= STREAM_BYTES ? new Uint8Array(h.length) : undefined;
  }

  private arm(w: Waiter, ms: number): void {
    w.timer = setTimeout(() => {
      const now = Date.now(), quiet = now - this.lastHeard;
      if (quiet >= this.timeoutMs) {
        this.fail(new LinkTimeoutError(this.peer, `no message "${w.tag}"${where(w.scope.label)} from ${this.peer} within ${this.timeoutMs} ms (nothing at all from the ${this.peer}: stalled or unreachable)`));
        return;
      }
      const stale = now - w.since >= this.timeoutMs ? this.oldestQueued(now - this.timeoutMs) : undefined;
      if (stale) {
        this.fail(new ProtocolError(this.peer, `waited ${now - w.since} ms for message "${w.tag}"${where(w.scope.label)} from ${this.peer} while its message "${stale.tag}"${where(stale.channel)} (${stale.payload.length} bytes) waits unread: the parties are out of step`));
        return;
      }
      this.arm(w, Math.max(5, Math.min(this.timeoutMs - quiet, this.timeoutMs / 2)));
    }, ms);
  }

  private oldestQueued(before: number): Queued | undefined {
    let best: Queued | undefined;
    for (const list of this.queue.values()) for (const f of list) if (f.at <= before && (!best || f.at < best.at)) best = f;
    return best;
  }

  /** Receives `n` ring elements (the message must be exactly 8n bytes). */
  async recvI64(tag: string, n: number, scope?: Scope): Promise<BigInt64Array> {
    const p = await this.recv(tag, n * 8, scope);
    return new BigInt64Array(p.buffer, p.byteOffset, n);
  }

  /**
   * Sends then receives a message with the same tag (both sides call it: one round). The send comes
   * first so that a peer message already queued does not count as received before ours went out.
   */
  exchange(tag: string, payload: Payload, bytes?: number, scope?: Scope): Promise<Uint8Array> {
    this.send(tag, payload, scope);
    return this.recv(tag, bytes, scope);
  }

  /** Exchanges ring elements: sends `mine`, receives as many from the peer. */
  async exchangeI64(tag: string, mine: BigInt64Array, scope?: Scope): Promise<BigInt64Array> {
    const p = await this.exchange(tag, mine, mine.byteLength, scope);
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
    this.transport.write([encodeHeader(tag, [], body.length), body]);
  }

  private onData(chunk: Uint8Array): void {
    if (this.closedWith) return;
    const now = (this.lastHeard = Date.now());
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (e) {
      if (e instanceof ProtocolError) return void this.fail(e);
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
      const key = keyOf(f.channel, f.tag);
      const w = this.waiters.get(key)?.shift();
      if (w !== undefined) {
        if (this.waiters.get(key)!.length === 0) this.waiters.delete(key);
        this.waiting--;
        this.deliver(w, f);
        if (this.closedWith) return;
        continue;
      }
      let list = this.queue.get(key);
      if (!list) this.queue.set(key, (list = []));
      list.push({ ...f, at: now });
      this.queuedBytes += f.payload.length;
    }
    if (this.queuedBytes > 4 * this.maxQueued) {
      this.fail(new ProtocolError(this.peer, `${this.peer} sent ${this.queuedBytes} bytes of messages nothing waits for (limit ${4 * this.maxQueued})`));
      return;
    }
    if (!this.paused && this.waiting === 0 && this.queuedBytes + this.decoder.pending > this.maxQueued) this.setPaused(true);
  }

  private setPaused(paused: boolean): void {
    this.paused = paused;
    if (paused) this.transport.pause();
    else this.transport.resume();
  }

  private unqueue(key: string, f: Frame): void {
    if (this.queue.get(key)!.length === 0) this.queue.delete(key);
    this.queuedBytes -= f.payload.length;
    if (this.paused && this.queuedBytes + this.decoder.pending <= this.maxQueued / 2) this.setPaused(false);
  }

  private deliver(w: Waiter, f: Frame): void {
    if (w.timer !== undefined) clearTimeout(w.timer);
    if (w.bytes !== undefined && f.payload.length !== w.bytes) {
      const e = new ProtocolError(this.peer, `message "${w.tag}"${where(f.channel)} from ${this.peer} has ${f.payload.length} bytes, expected ${w.bytes}`);
      w.reject(e);
      this.fail(e);
      return;
    }
    try {
      this.ledger.recordReceive(w.scope, this.peer, f.payload.length, f.stamps);
    } catch (e) {
      const err = new ProtocolError(this.peer, `malformed message "${w.tag}" from ${this.peer}: ${(e as Error).message}`);
      w.reject(err);
      this.fail(err);
      return;
    }
    for (const fn of this.observers) fn({ peer: this.peer, channel: f.channel, tag: w.tag, payload: f.payload });
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
    const waiters = [...this.waiters.values()].flat();
    this.waiters.clear();
    this.waiting = 0;
    for (const w of waiters) {
      if (w.timer !== undefined) clearTimeout(w.timer);
      w.reject(err);
    }
    if (destroy) this.transport.destroy(err);
    if (!this.graceful) for (const fn of this.failureListeners.splice(0)) fn(err);
  }
}
