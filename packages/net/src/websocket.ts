/**
 * A party's link over a WebSocket (a browser client to a service): binary messages carry the frames,
 * the same hello opens it. Platform-neutral: it takes the WebSocket class (the browser's, or the `ws`
 * package's in Node), so the same code runs in a page and in its tests. The TLS under `wss://` is the
 * browser's: there is no channel binding to export, so keys are bound to the public keys and roles only.
 * @module
 */
import { FrameDecoder } from './frame.ts';
import { LinkClosedError, ProtocolError, RefusedError } from './errors.ts';
import { HELLO_MAX, PROTO, helloFrame, parseHello, type Hello } from './hello.ts';
import { Link, type LinkOptions, type Sink, type Transport } from './link.ts';

/** The part of the WebSocket interface used here (browsers' and the `ws` package's both have it). */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code?: number; reason?: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export type WebSocketClass = new (url: string) => WebSocketLike;

const bytesOf = (data: unknown): Uint8Array => (data instanceof ArrayBuffer ? new Uint8Array(data) : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(0));

class WebSocketTransport implements Transport {
  private sink: Sink | undefined;
  private early: Uint8Array[] = [];
  private closed: { err?: Error } | undefined;
  constructor(private readonly ws: WebSocketLike, readonly describe: string, leftover: Uint8Array[]) {
    this.early.push(...leftover);
    ws.onmessage = (ev) => this.data(bytesOf(ev.data));
    ws.onclose = (ev) => this.close(ev.code === 1000 ? undefined : new Error(`WebSocket closed (${ev.code ?? '?'}${ev.reason ? `: ${ev.reason}` : ''})`));
    ws.onerror = () => undefined; // the close event follows with the code
  }
  private data(b: Uint8Array): void {
    if (this.sink) this.sink.data(b);
    else this.early.push(b);
  }
  private close(err?: Error): void {
    this.closed = err ? { err } : {};
    this.sink?.close(err);
  }
  bind(sink: Sink): void {
    this.sink = sink;
    for (const b of this.early.splice(0)) sink.data(b);
    if (this.closed) sink.close(this.closed.err);
  }
  write(parts: Uint8Array[]): void {
    let n = 0;
    for (const p of parts) n += p.length;
    const buf = new Uint8Array(n);
    let o = 0;
    for (const p of parts) (buf.set(p, o), (o += p.length));
    this.ws.send(buf);
  }
  end(): void {
    this.ws.close(1000);
  }
  destroy(): void {
    this.ws.close(1000);
  }
  // A WebSocket has no flow control to give: messages are taken as they come.
  pause(): void {}
  resume(): void {}
}

export interface WebSocketConnectOptions {
  url: string;
  self: string;
  peer: string;
  /** A service session to ask for: `new`, or the id of one to join. */
  session?: string;
  link?: LinkOptions;
  /** Time to open the socket and get the hello answer (default 30 s). */
  connectTimeoutMs?: number;
  /** The WebSocket class (default: the global one, as in browsers). */
  WebSocket?: WebSocketClass;
}

/**
 * Opens a link over a WebSocket and says hello; resolves with the link and the session the answer names.
 * @throws {RefusedError} when the service refuses (busy, shutting down, unknown session)
 * @throws {LinkClosedError} when it cannot be reached in time or answers as someone else
 */
export function connectWebSocket(o: WebSocketConnectOptions): Promise<{ link: Link; session: string | undefined }> {
  const WS = o.WebSocket ?? (globalThis as unknown as { WebSocket?: WebSocketClass }).WebSocket;
  if (!WS) throw new Error('no WebSocket class: pass one (the ws package in Node)');
  const where = `${o.peer} at ${o.url}`;
  return new Promise((resolve, reject) => {
    const ws = new WS(o.url);
    ws.binaryType = 'arraybuffer';
    const dec = new FrameDecoder({ maxPayload: HELLO_MAX });
    let settled = false;
    const fail = (e: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ws.close();
      reject(e);
    };
    const timer = setTimeout(() => fail(new LinkClosedError(o.peer, `${where}: no answer within ${o.connectTimeoutMs ?? 30_000} ms`)), o.connectTimeoutMs ?? 30_000);
    ws.onerror = () => undefined;
    ws.onclose = (ev) => fail(new LinkClosedError(o.peer, `cannot connect to ${where} (WebSocket closed, code ${ev.code ?? '?'}${ev.reason ? `: ${ev.reason}` : ''})`));
    ws.onopen = () => ws.send(helloFrame({ proto: PROTO, from: o.self, to: o.peer, ...(o.session !== undefined ? { session: o.session } : {}) }));
    ws.onmessage = (ev) => {
      let hello: Hello;
      try {
        const frames = dec.push(bytesOf(ev.data), 1);
        if (frames.length === 0) return;
        hello = parseHello(frames[0]!, where);
        if (hello.from !== o.peer || hello.to !== o.self) throw new ProtocolError(o.peer, `${where} answered as "${hello.from}" (to "${hello.to}"), expected "${o.peer}"`);
        if (hello.refused !== undefined) throw new RefusedError(o.peer, `${where} refused: ${String(hello.refused).slice(0, 500)}`, hello.retry === true);
      } catch (e) {
        return fail(e as Error);
      }
      settled = true;
      clearTimeout(timer);
      resolve({ link: new Link(o.self, o.peer, new WebSocketTransport(ws, where, dec.drain()), o.link), session: hello.session });
    };
  });
}
