/**
 * TCP and TLS 1.3 (mutually authenticated) transports, and how links are set up over them.
 *
 * One side listens (LinkServer), the other connects (connectLink). The connector opens with a hello
 * naming itself and the party it wants; the listener checks both (and, under TLS, that the peer
 * certificate's common name is the claimed role), answers with its own hello, and hands out the link.
 * Under TLS both sides accept only certificates of the deployment CA whose common name is the role they
 * expect. Hellos are not protocol traffic: the ledger starts after them (TLS record overhead is not
 * counted either).
 *
 * Plain TCP is never a default: without TLS credentials a link needs `insecurePlaintext: true`, and only
 * to a loopback address (over plain TCP anyone on the path reads the shares and can sit in the middle of
 * the key agreement). Every stage of setting a link up (TCP connect, TLS handshake, hello) is bounded by
 * the connect timeout on the connecting side and by the hello timeout on the listening side, and fails
 * with an error that names the peer and the stage.
 * @module
 */
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { FrameDecoder } from './frame.ts';
import { HELLO_MAX, PROTO, helloFrame, parseHello, type Hello } from './hello.ts';
import { LinkClosedError, ProtocolError, RefusedError } from './errors.ts';
import { Link, type LinkOptions, type Sink, type Transport } from './link.ts';

/** Credentials of this party in a TLS deployment (PEM). Never log `key`. */
export interface TlsCredentials {
  /** The deployment CA certificate: the only issuer trusted for peers. */
  ca: string;
  cert: string;
  key: string;
}

/**
 * A client without a certificate, for a service that accepts public clients: it authenticates the
 * service, not itself. With `ca` it trusts only the deployment CA and checks the role in the
 * certificate (as between parties); without, it trusts the system's roots and checks the host name (a
 * web PKI certificate).
 */
export interface PublicClientTls {
  anonymous: true;
  ca?: string;
}

class SocketTransport implements Transport {
  private err: Error | undefined;
  constructor(private readonly socket: net.Socket, readonly describe: string, private readonly leftover: Uint8Array[]) {}

  /** TLS exported keying material (RFC 5705/8446): the same 32 bytes at both ends of this TLS session only. */
  channelBinding(): Uint8Array | undefined {
    if (!(this.socket instanceof tls.TLSSocket)) return undefined;
    return new Uint8Array(this.socket.exportKeyingMaterial(32, 'EXPORTER-si/1 channel binding', Buffer.alloc(0)));
  }

  bind(sink: Sink): void {
    for (const c of this.leftover) sink.data(c);
    // Plain Uint8Array views, not Buffers: Buffer#slice shares memory where Uint8Array#slice copies,
    // and payloads handed to protocols must behave like the Uint8Arrays they are typed as.
    this.socket.on('data', (d: Buffer) => sink.data(new Uint8Array(d.buffer, d.byteOffset, d.byteLength)));
    this.socket.on('error', (e) => (this.err ??= e));
    this.socket.on('close', () => sink.close(this.err));
    if (this.socket.destroyed) queueMicrotask(() => sink.close(this.err ?? new Error('socket closed during the handshake')));
    this.socket.resume();
  }

  write(parts: Uint8Array[]): void {
    // One copy: the caller may reuse its buffers as soon as send() returns, and one write per message.
    let n = 0;
    for (const p of parts) n += p.length;
    const buf = Buffer.allocUnsafe(n);
    let o = 0;
    for (const p of parts) {
      buf.set(p, o);
      o += p.length;
    }
    this.socket.write(buf);
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }
}

function writeHello(socket: net.Socket, h: Hello): void {
  socket.write(helloFrame(h));
}

/** Reads the hello frame straight off the socket; leaves the socket paused with any extra bytes returned. */
function readHello(socket: net.Socket, who: string, timeoutMs: number): Promise<{ hello: Hello; leftover: Uint8Array[] }> {
  return new Promise((resolve, reject) => {
    const dec = new FrameDecoder({ maxPayload: HELLO_MAX });
    const done = (err: Error | null, value?: { hello: Hello; leftover: Uint8Array[] }): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onError);
      // Until a link's transport takes the socket (it listens for errors itself), an error such as a
      // reset by the peer must not go unheard: Node would throw it and end the whole process. The 'close'
      // that follows it is what the parked peer, or the transport, acts on.
      socket.on('error', () => undefined);
      socket.pause();
      if (err) reject(err);
      else resolve(value!);
    };
    const onData = (d: Buffer): void => {
      try {
        const frames = dec.push(d, 1);
        if (frames.length === 0) return;
        const f = frames[0]!;
        const o = parseHello(f, who);
        // Bytes after the hello (the peer may send right after it) go on to the link.
        done(null, { hello: o, leftover: dec.drain() });
      } catch (e) {
        done(e instanceof ProtocolError ? e : new ProtocolError(who, `bad hello from ${who}: ${(e as Error).message}`));
      }
    };
    let sockErr: Error | undefined;
    const onError = (e: Error): void => void (sockErr ??= e);
    const onClose = (): void => done(new LinkClosedError(who, `${who} closed the connection during the hello${sockErr ? `: ${sockErr.message}` : ''}`, { cause: sockErr }));
    const timer = setTimeout(() => done(new LinkClosedError(who, `no hello from ${who} within ${timeoutMs} ms`)), timeoutMs);
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.on('error', onError);
    socket.resume();
  });
}

function certRoleOf(socket: net.Socket): string | undefined {
  if (!(socket instanceof tls.TLSSocket)) return undefined;
  const cn = socket.getPeerCertificate()?.subject?.CN;
  return Array.isArray(cn) ? cn[0] : cn;
}

const tlsBase = (c: TlsCredentials | PublicClientTls) =>
  ({ ...('anonymous' in c ? (c.ca ? { ca: c.ca } : {}) : { ca: c.ca, cert: c.cert, key: c.key }), minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' }) as const;

export interface ListenOptions {
  /** This party's role name. */
  self: string;
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** Port to listen on (0 = any free port; read `server.port`). */
  port: number;
  /** TLS credentials (required unless insecurePlaintext). */
  tls?: TlsCredentials;
  /**
   * Plain TCP without authentication or encryption, for tests and benchmarks on one machine: refused
   * unless the bind address is loopback.
   */
  insecurePlaintext?: boolean;
  /** Options of the links handed out. */
  link?: LinkOptions;
  /** Time a new connection has to finish TLS and say hello (default 10 s). */
  helloTimeoutMs?: number;
  /** The roles that may connect (default: any); a hello from another role is refused. */
  peers?: readonly string[];
  /**
   * How long a peer that said hello is kept for an accept() that has not come yet (default 60 s); a newer
   * connection of the same role replaces it, and one that closes is dropped.
   */
  acceptWindowMs?: number;
  /**
   * Roles accepted without a certificate (under TLS): a service's public clients. Every other role still
   * needs a certificate of the deployment CA naming it.
   */
  anonymous?: readonly string[];
  /**
   * A service: every greeted connection goes to this callback, which accepts it (answering with a
   * session id) or refuses it with a reason; accept(role) is then not used.
   */
  onIncoming?: (peer: Incoming) => void;
}

/** A connection that said hello to a service listener, waiting to be accepted or refused. */
export interface Incoming {
  /** The role it says it is (checked against its certificate unless it is an anonymous role). */
  readonly from: string;
  /** The session it asks for (`new`, or an id), if any. */
  readonly session: string | undefined;
  /** Its address (host:port). */
  readonly address: string;
  /** Whether it presented a certificate of the deployment CA. */
  readonly authenticated: boolean;
  /** Answers the hello (naming `session`) and hands out the link. */
  accept(session: string | undefined, link?: LinkOptions): Link;
  /** Answers the hello with a refusal and closes the connection. */
  refuse(reason: string, retry: boolean): void;
}

interface Greeted {
  socket: net.Socket;
  from: string;
  leftover: Uint8Array[];
  /** While parked (no accept yet): drops it after the accept window, or when it closes. */
  unpark?: () => void;
}

/** Listens for peers and hands out one link per expected peer role. */
export class LinkServer {
  private readonly waiting = new Map<string, { resolve(g: Greeted): void; reject(e: Error): void }>();
  private readonly ready = new Map<string, Greeted>();
  private readonly problems: Error[] = [];
  private dropped = 0;

  private constructor(private readonly server: net.Server, private readonly opts: ListenOptions) {
    server.on(opts.tls ? 'secureConnection' : 'connection', (socket: net.Socket) => void this.onSocket(socket));
    // With a listener for it, Node leaves the failed socket open (a handshake timeout included): close it here.
    if (opts.tls) server.on('tlsClientError', (e: Error, s: tls.TLSSocket) => (s.destroy(), this.problem(new Error(`TLS handshake refused: ${e.message}`))));
  }

  /** Records a refused connection, keeping the last PROBLEMS_KEPT (a flood of bad connections is counted, not stored). */
  private problem(e: Error): void {
    this.problems.push(e);
    if (this.problems.length > PROBLEMS_KEPT) (this.problems.shift(), this.dropped++);
  }

  /** Connections refused and no longer listed in `refused` (beyond the last PROBLEMS_KEPT). */
  get refusedUnlisted(): number {
    return this.dropped;
  }

  /**
   * Starts listening.
   * @throws {Error} without TLS credentials (unless insecurePlaintext on a loopback address)
   */
  static async listen(opts: ListenOptions): Promise<LinkServer> {
    requireTransport(opts.tls, opts.insecurePlaintext, opts.host ?? '127.0.0.1', `${opts.self} listening`);
    const handshakeTimeout = opts.helloTimeoutMs ?? 10_000;
    // Anonymous roles: the certificate is asked for, not required; onSocket then decides per role.
    const anonymous = (opts.anonymous?.length ?? 0) > 0;
    const server = opts.tls ? tls.createServer({ ...tlsBase(opts.tls), requestCert: true, rejectUnauthorized: !anonymous, handshakeTimeout }) : net.createServer();
    const s = new LinkServer(server, opts);
    server.listen(opts.port, opts.host ?? '127.0.0.1');
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([e]) => Promise.reject(e))]);
    return s;
  }

  /** The port actually bound. */
  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** The last connections refused (bad certificate, wrong role, malformed or missing hello), for diagnostics. */
  get refused(): readonly Error[] {
    return this.problems;
  }

  /**
   * Waits for the peer with role `peer` to connect and say hello.
   * @param opts.timeoutMs - how long to wait (default 60 s)
   * @param opts.link - options of the link (ledger, timeouts); default: the listener's
   * @throws {LinkClosedError} after the timeout without that peer, listing refused attempts
   */
  async accept(peer: string, opts: { timeoutMs?: number; link?: LinkOptions } = {}): Promise<Link> {
    const g = await this.greeted(peer, opts.timeoutMs ?? 60_000);
    return new Link(this.opts.self, peer, new SocketTransport(g.socket, g.from, g.leftover), opts.link ?? this.opts.link);
  }

  private greeted(peer: string, timeoutMs: number): Promise<Greeted> {
    const have = this.ready.get(peer);
    if (have) {
      this.ready.delete(peer);
      have.unpark?.();
      return Promise.resolve(have);
    }
    if (this.waiting.has(peer)) return Promise.reject(new Error(`already waiting for ${peer}`));
    return new Promise<Greeted>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(peer);
        const why = this.problems.length ? `; refused: ${this.problems.map((e) => e.message).join('; ')}${this.dropped ? ` (and ${this.dropped} earlier)` : ''}` : '';
        reject(new LinkClosedError(peer, `${peer} did not connect to ${this.opts.self} on port ${this.port} within ${timeoutMs} ms${why}`));
      }, timeoutMs);
      this.waiting.set(peer, {
        resolve: (g) => (clearTimeout(timer), resolve(g)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
    });
  }

  /**
   * Takes a connection that arrived another way, as a byte stream (a WebSocket wrapped by the `ws`
   * package's createWebSocketStream): it says hello and is accepted or refused like any other. It has no
   * certificate, so only anonymous roles pass, and its links have no channel binding.
   */
  adopt(stream: import('node:stream').Duplex, address: string): void {
    void this.onSocket(stream as net.Socket, address);
  }

  private async onSocket(socket: net.Socket, address?: string): Promise<void> {
    const from = address ?? `${socket.remoteAddress}:${socket.remotePort}`;
    socket.setNoDelay?.(true);
    let got: { hello: Hello; leftover: Uint8Array[] };
    try {
      got = await readHello(socket, `connection from ${from}`, this.opts.helloTimeoutMs ?? 10_000);
      const { hello } = got;
      if (hello.to !== this.opts.self) throw new ProtocolError(from, `${from} asked for "${hello.to}", this is "${this.opts.self}"`);
      if (hello.from === this.opts.self || (this.opts.peers && !this.opts.peers.includes(hello.from)))
        throw new ProtocolError(from, `${from} says it is "${hello.from}", which is not a peer of "${this.opts.self}"${this.opts.peers ? ` (${this.opts.peers.join(', ')})` : ''}`);
      if (this.opts.tls) {
        const authorized = (socket as tls.TLSSocket).authorized;
        const role = authorized ? certRoleOf(socket) : undefined;
        if (!authorized && !this.opts.anonymous?.includes(hello.from))
          throw new ProtocolError(from, `${from} claims to be "${hello.from}" without a certificate of the deployment CA`);
        if (authorized && role !== hello.from)
          throw new ProtocolError(from, `${from} claims to be "${hello.from}" but its certificate is for "${role}"`);
      }
    } catch (e) {
      this.problem(e as Error);
      socket.destroy();
      return;
    }
    if (this.opts.onIncoming) return this.opts.onIncoming(this.incoming(socket, from, got));
    writeHello(socket, { proto: PROTO, from: this.opts.self, to: got.hello.from });
    const g: Greeted = { socket, from, leftover: got.leftover };
    const role = got.hello.from;
    const w = this.waiting.get(role);
    if (w) {
      this.waiting.delete(role);
      w.resolve(g);
      return;
    }
    this.park(role, g);
  }

  private incoming(socket: net.Socket, address: string, got: { hello: Hello; leftover: Uint8Array[] }): Incoming {
    const { hello } = got;
    let answered = false;
    const answer = (h: Partial<Hello>) => {
      if (answered) throw new Error(`the connection from ${address} was already answered`);
      answered = true;
      writeHello(socket, { proto: PROTO, from: this.opts.self, to: hello.from, ...h });
    };
    return {
      from: hello.from, session: hello.session, address,
      authenticated: socket instanceof tls.TLSSocket && socket.authorized,
      accept: (session, link) => {
        answer(session === undefined ? {} : { session });
        return new Link(this.opts.self, hello.from, new SocketTransport(socket, address, got.leftover), link ?? this.opts.link);
      },
      refuse: (reason, retry) => {
        answer({ refused: reason, retry });
        socket.end();
        // A peer that does not close its end is cut off shortly after.
        setTimeout(() => socket.destroy(), 2000).unref();
      },
    };
  }

  /** Keeps a greeted peer for a later accept(): the newest connection of a role wins; bounded in time. */
  private park(role: string, g: Greeted): void {
    const old = this.ready.get(role);
    if (old) {
      old.unpark?.();
      old.socket.destroy();
      this.problem(new ProtocolError(old.from, `"${role}" at ${old.from} was replaced by a newer connection from ${g.from} before it was accepted`));
    }
    const drop = (why: string) => {
      if (this.ready.get(role) !== g) return;
      this.ready.delete(role);
      g.unpark?.();
      g.socket.destroy();
      this.problem(new ProtocolError(g.from, `"${role}" at ${g.from} ${why}`));
    };
    const timer = setTimeout(() => drop(`was not accepted within ${this.opts.acceptWindowMs ?? 60_000} ms`), this.opts.acceptWindowMs ?? 60_000);
    const onClose = () => drop('closed before it was accepted');
    g.socket.once('close', onClose);
    g.unpark = () => (clearTimeout(timer), g.socket.off('close', onClose), (g.unpark = undefined));
    this.ready.set(role, g);
  }

  /**
   * Stops listening. Links already handed out stay open (so this does not wait for them); greeted peers
   * not yet accepted are dropped.
   */
  async close(): Promise<void> {
    for (const [peer, w] of this.waiting) w.reject(new LinkClosedError(peer, `${this.opts.self} stopped listening before ${peer} connected`));
    this.waiting.clear();
    for (const g of this.ready.values()) (g.unpark?.(), g.socket.destroy());
    this.ready.clear();
    this.server.close();
  }
}

export interface ConnectOptions {
  /** This party's role name. */
  self: string;
  /** The role of the party listening there. */
  peer: string;
  host?: string;
  port: number;
  /** TLS credentials (required unless insecurePlaintext); a public client of a service has no certificate. */
  tls?: TlsCredentials | PublicClientTls;
  /** A service session to ask for: `new`, or the id of one to join. */
  session?: string;
  /** Plain TCP without authentication or encryption (tests and benchmarks): refused unless the host is loopback. */
  insecurePlaintext?: boolean;
  link?: LinkOptions;
  /**
   * Time to set the link up (default 30 s): retrying a refused connection (the peer may not be listening
   * yet), the TLS handshake and the hello all end by then.
   */
  connectTimeoutMs?: number;
}

/** The largest number of refused connections a listener keeps for its messages. */
const PROBLEMS_KEPT = 32;

/** 127.0.0.0/8, ::1, localhost (and IPv4-mapped loopback). */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return h === 'localhost' || h === '::1' || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(h);
}

function requireTransport(creds: TlsCredentials | PublicClientTls | undefined, plaintext: boolean | undefined, host: string, who: string): void {
  if (creds) return;
  if (!plaintext) throw new Error(`${who}: TLS credentials are required (plain TCP would leave the shares and the key agreement open to anyone on the path; pass insecurePlaintext: true for a test on loopback)`);
  if (!isLoopback(host)) throw new Error(`${who}: insecurePlaintext is refused for ${host}: plain TCP only on a loopback address`);
}

/** A TCP (and TLS) connection, within `timeoutMs`; errors name the stage that did not finish. */
function openSocket(o: ConnectOptions, timeoutMs: number): Promise<net.Socket> {
  const host = o.host ?? '127.0.0.1';
  return new Promise((resolve, reject) => {
    const socket = o.tls
      ? tls.connect({
          ...tlsBase(o.tls), host, port: o.port, rejectUnauthorized: true,
          ...(o.tls.ca !== undefined ? {
            // Under the deployment CA the peer is identified by role (certificate common name), not by host
            // name; under the system's roots (a public client without `ca`) by host name, as browsers do.
            checkServerIdentity: (_h: string, cert: tls.PeerCertificate) => {
              const cn = Array.isArray(cert.subject.CN) ? cert.subject.CN[0] : cert.subject.CN;
              return cn === o.peer ? undefined : new Error(`${host}:${o.port} presented a certificate for "${cn}", expected "${o.peer}"`);
            },
          } : { servername: net.isIP(host) ? undefined : host }),
        })
      : net.connect({ host, port: o.port });
    const ok = o.tls ? 'secureConnect' : 'connect';
    let tcpUp = false;
    socket.once('connect', () => (tcpUp = true));
    const timer = setTimeout(() => {
      const stage = !tcpUp ? `no TCP connection within ${timeoutMs} ms` : `no TLS handshake within ${timeoutMs} ms (the connection was accepted, then nothing)`;
      onErr(Object.assign(new Error(stage), { code: 'SI_CONNECT_TIMEOUT' }));
    }, timeoutMs);
    const onErr = (e: Error): void => {
      clearTimeout(timer);
      socket.off(ok, onOk);
      socket.destroy();
      reject(e);
    };
    const onOk = (): void => {
      clearTimeout(timer);
      socket.off('error', onErr);
      resolve(socket);
    };
    socket.once(ok, onOk);
    socket.once('error', onErr);
  });
}

/**
 * Connects to a listening peer and returns the link once both hellos are through.
 * @throws {LinkClosedError} naming the peer when it cannot be reached, refuses us, or is not who we expect
 */
export async function connectLink(o: ConnectOptions): Promise<Link> {
  return (await connectSession(o)).link;
}

/**
 * Connects to a listening peer (a service) and returns the link and the session the peer's answer
 * names.
 * @throws {RefusedError} when the peer answers with a refusal (busy, shutting down, unknown session)
 * @throws {LinkClosedError} naming the peer when it cannot be reached or is not who we expect
 */
export async function connectSession(o: ConnectOptions): Promise<{ link: Link; session: string | undefined }> {
  const where = `${o.peer} at ${o.host ?? '127.0.0.1'}:${o.port}`;
  requireTransport(o.tls, o.insecurePlaintext, o.host ?? '127.0.0.1', `${o.self} connecting to ${where}`);
  const deadline = Date.now() + (o.connectTimeoutMs ?? 30_000);
  let socket: net.Socket | undefined;
  let last: Error | undefined;
  for (let wait = 20; socket === undefined; wait = Math.min(wait * 2, 500)) {
    try {
      socket = await openSocket(o, Math.max(1, deadline - Date.now()));
    } catch (e) {
      last = e as Error;
      const code = (e as NodeJS.ErrnoException).code;
      const retry = code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EAI_AGAIN';
      if (!retry || Date.now() + wait > deadline)
        throw new LinkClosedError(o.peer, `cannot connect to ${where}: ${last.message}`, { cause: last });
      await sleep(wait);
    }
  }
  socket.setNoDelay(true);
  writeHello(socket, { proto: PROTO, from: o.self, to: o.peer, ...(o.session !== undefined ? { session: o.session } : {}) });
  let got: { hello: Hello; leftover: Uint8Array[] };
  try {
    got = await readHello(socket, where, Math.max(1, deadline - Date.now()));
  } catch (e) {
    socket.destroy();
    const err = e as Error;
    const silent = /^no hello from/.test(err.message);
    if (/certificate required/.test(err.message))
      throw new LinkClosedError(o.peer, `${where} requires a client certificate of its deployment CA (it does not accept public clients)`, { cause: err });
    throw new LinkClosedError(o.peer, silent
      ? `${where} completed the ${o.tls ? 'TLS handshake' : 'TCP connection'} but sent no hello within the connect timeout (${err.message})`
      : `${where} refused the connection (${err.message}); under TLS this usually means our certificate was rejected`, { cause: err });
  }
  if (got.hello.from !== o.peer || got.hello.to !== o.self) {
    socket.destroy();
    throw new ProtocolError(o.peer, `${where} answered as "${got.hello.from}" (to "${got.hello.to}"), expected "${o.peer}"`);
  }
  if (got.hello.refused !== undefined) {
    socket.destroy();
    throw new RefusedError(o.peer, `${where} refused: ${String(got.hello.refused).slice(0, 500)}`, got.hello.retry === true);
  }
  return { link: new Link(o.self, o.peer, new SocketTransport(socket, where, got.leftover), o.link), session: got.hello.session };
}
