/**
 * `si serve`: the server or the helper as a long-running service for many client sessions.
 *
 * A session starts at the server: a client asks it for a new session; the server mints a random id,
 * opens a fresh mutually authenticated link to the helper naming it, and answers the client with the
 * id; the client then joins that session at the helper. Each session has its own links, ledger and
 * freshly agreed PRF keys, and runs the same protocol as `si party`; the model, spec and modes are the
 * service's, and a client asking for others is refused at agreement with the field named. Sessions run
 * concurrently up to maxSessions; beyond that, and while draining, a client is answered "busy" or
 * "shutting down" with a hint to retry (never left waiting). A failing, stalled or misbehaving client ends
 * its own session (its links fail or time out, and the other party of the session is told); the others
 * go on. Logs are JSON lines per event: never keys, shares or inputs.
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { availableParallelism } from 'node:os';
import { connectSession, Ledger, LinkServer, RefusedError, type Incoming, type Link, type LinkOptions, type TlsCredentials } from '@si/net';
import { CLIENT, HELPER, SERVER, startParty, type PartyId } from '@si/sharing';
import { loadParty, runSession, type LoadedParty, type PartySetup } from './party.ts';
import { ServiceMetrics } from './metrics.ts';
import { startWebFrontend } from './web-frontend.ts';
import { stringifySpec } from '@si/patch-relu';

export interface ServeConfig extends Omit<PartySetup, 'role' | 'input' | 'manifest' | 'outPng'> {
  role: 'server' | 'helper';
  listen: { host: string; port: number };
  /** The server: where the helper service listens. */
  helper?: { host: string; port: number };
  /** This party's certificate (the server-helper link is always mutual TLS). */
  tls: TlsCredentials;
  /** Sessions at once (default: the number of cores); beyond, clients are told to retry. */
  maxSessions?: number;
  /** Accept clients without certificates (the service is still authenticated to them by TLS). */
  publicClients?: boolean;
  /** Serve Prometheus metrics at http://HOST:PORT/metrics. */
  metrics?: { host: string; port: number };
  /**
   * Take browser clients over WebSocket (wss://) at HOST:PORT; needs publicClients. At the server this also
   * serves the page, which connects to the helper at `helperUrl` (the helper's --web address).
   */
  web?: { host: string; port: number; helperUrl?: string };
  /** One JSON object per event (default: a line on stdout). */
  log?: (line: Record<string, unknown>) => void;
}

interface Pending {
  link: Link;
  ledger: Ledger;
  opts: LinkOptions;
  timer: ReturnType<typeof setTimeout>;
}

export class Service {
  readonly metrics: ServiceMetrics;
  /** Sessions running (at the helper: also those the server opened whose client has not joined yet). */
  private readonly running = new Set<string>();
  private readonly pending = new Map<string, Pending>();
  private draining = false;
  private drained: (() => void) | undefined;
  private listener!: LinkServer;
  private http: Server | undefined;
  private web: Server | undefined;
  private readonly max: number;

  private constructor(private readonly cfg: ServeConfig, private readonly loaded: LoadedParty) {
    this.metrics = new ServiceMetrics(cfg.role);
    this.max = cfg.maxSessions ?? availableParallelism();
    if (!(Number.isInteger(this.max) && this.max >= 1)) throw new Error(`--max-sessions must be a positive integer, got ${cfg.maxSessions}`);
    if (cfg.role === 'server' && !cfg.helper) throw new Error('the server service needs the helper service\'s address (--helper HOST:PORT)');
    if (cfg.role === 'helper' && cfg.helper) throw new Error('the helper service is the one the server connects to; it takes no --helper');
  }

  /**
   * Loads the model (the server its weights), then listens.
   * @throws on bad configuration, before listening
   */
  static async start(cfg: ServeConfig): Promise<Service> {
    const s = new Service(cfg, loadParty({ ...cfg }));
    s.listener = await LinkServer.listen({
      self: cfg.role, host: cfg.listen.host, port: cfg.listen.port, tls: cfg.tls,
      peers: cfg.role === 'server' ? ['client'] : ['client', 'server'],
      ...(cfg.publicClients ? { anonymous: ['client'] } : {}),
      onIncoming: (peer) => (cfg.role === 'server' ? s.atServer(peer) : s.atHelper(peer)),
    });
    if (cfg.metrics) s.http = await ServiceMetrics.serve(s.metrics, cfg.metrics.host, cfg.metrics.port);
    if (cfg.web) {
      if (!cfg.publicClients) throw new Error('--web takes browser clients, which have no certificate: it needs --public-clients');
      if (cfg.role === 'server' && !cfg.web.helperUrl) throw new Error('the server\'s --web page needs the helper\'s WebSocket address (--web-helper wss://HOST:PORT)');
      const page = cfg.role === 'server' ? { config: { ...s.loaded.params, helper: cfg.web.helperUrl }, spec: s.loaded.spec ? stringifySpec(s.loaded.spec) : null } : undefined;
      s.web = await startWebFrontend({ host: cfg.web.host, port: cfg.web.port, tls: cfg.tls, listener: s.listener, ...(page ? { page } : {}) });
    }
    s.log({ event: 'listening', port: s.port, ...(s.http ? { metricsPort: s.metricsPort } : {}), ...(s.web ? { webPort: (s.web.address() as { port: number }).port } : {}), maxSessions: s.max, publicClients: !!cfg.publicClients, model: cfg.model, spec: s.loaded.params.spec, mode: s.loaded.params.mode, reveal: s.loaded.params.reveal });
    return s;
  }

  get port(): number {
    return this.listener.port;
  }

  get metricsPort(): number | undefined {
    const a = this.http?.address();
    return a && typeof a === 'object' ? a.port : undefined;
  }

  /** Sessions running now. */
  get active(): number {
    return this.running.size;
  }

  private log(line: Record<string, unknown>): void {
    const full = { time: new Date().toISOString(), role: this.cfg.role, ...line };
    if (this.cfg.log) this.cfg.log(full);
    else console.log(JSON.stringify(full));
  }

  private linkOptions(): { ledger: Ledger; opts: LinkOptions } {
    const ledger = new Ledger();
    return { ledger, opts: { ledger, timeoutMs: 1000 * (this.cfg.timeoutSeconds ?? 120) } };
  }

  private get connectMs(): number {
    return 1000 * (this.cfg.connectTimeoutSeconds ?? 30);
  }

  /** Refuses a connection before any session: busy and draining ask the client to retry. */
  private refuse(peer: Incoming, reason: 'busy' | 'draining' | 'bad_request' | 'helper_unreachable', message: string): void {
    this.metrics.refuse(reason);
    this.log({ event: 'refused', reason, peer: peer.from, address: peer.address, message });
    peer.refuse(message, reason !== 'bad_request');
  }

  /** Whether a new session fits; otherwise the peer is refused. */
  private admit(peer: Incoming): boolean {
    if (this.draining) return (this.refuse(peer, 'draining', `the ${this.cfg.role} is shutting down and takes no new sessions; retry with another instance or later`), false);
    if (this.running.size >= this.max) return (this.refuse(peer, 'busy', `busy: ${this.running.size} of ${this.max} sessions running at the ${this.cfg.role}; retry later`), false);
    return true;
  }

  /** The server: a client asks for a new session. */
  private atServer(peer: Incoming): void {
    if (peer.session !== 'new') return this.refuse(peer, 'bad_request', `a session starts at the server: ask for "new" (got ${JSON.stringify(peer.session ?? null)}); this is si serve, run the client with si client`);
    if (!this.admit(peer)) return;
    const id = randomBytes(16).toString('hex');
    this.running.add(id);
    this.metrics.running = this.running.size;
    const { ledger, opts } = this.linkOptions();
    const h = this.cfg.helper!;
    connectSession({ self: 'server', peer: 'helper', host: h.host, port: h.port, tls: this.cfg.tls, session: id, link: opts, connectTimeoutMs: this.connectMs }).then(
      ({ link }) => void this.session(id, new Map([[CLIENT, peer.accept(id, opts)], [HELPER, link]]), ledger, peer.address),
      (e: Error) => {
        this.running.delete(id);
        this.metrics.running = this.running.size;
        // The helper's own busy or draining answer is passed on as such; an unreachable helper too (retry).
        const said = e instanceof RefusedError;
        this.refuse(peer, said ? (/shutting down/.test(e.message) ? 'draining' : 'busy') : 'helper_unreachable', said ? `the helper ${e.message.replace(/^.*? refused: /, 'refused: ')}` : `the helper cannot be reached (${e.message}); retry later`);
        this.settle();
      },
    );
  }

  /** The helper: the server opens a session, then its client joins it. */
  private atHelper(peer: Incoming): void {
    if (peer.from === 'server') {
      const id = peer.session;
      if (id === undefined || !/^[0-9a-f]{32}$/.test(id) || this.running.has(id)) return this.refuse(peer, 'bad_request', `the server must name a fresh session id (got ${JSON.stringify(id ?? null)})`);
      if (!this.admit(peer)) return;
      const { ledger, opts } = this.linkOptions();
      const link = peer.accept(id, opts);
      this.running.add(id);
      this.metrics.running = this.running.size;
      const timer = setTimeout(() => {
        if (!this.pending.delete(id)) return;
        link.abort(`helper: the client did not join session ${id.slice(0, 8)} within ${this.connectMs} ms`);
        this.ended(id, false, { error: `the client did not join within ${this.connectMs} ms`, seconds: this.connectMs / 1000, sent: 0, received: 0 });
      }, this.connectMs);
      // The server gave up (its client went away before joining): drop the session.
      link.onFailure((e) => {
        if (!this.pending.delete(id)) return;
        clearTimeout(timer);
        this.ended(id, false, { error: `before the client joined: ${e.message}`, seconds: 0, sent: 0, received: 0 });
      });
      this.pending.set(id, { link, ledger, opts, timer });
      return;
    }
    const id = peer.session ?? '';
    const p = this.pending.get(id);
    if (!p) return this.refuse(peer, 'bad_request', `no session ${JSON.stringify(id.slice(0, 32))} is waiting for its client here: ask the server for a session first`);
    this.pending.delete(id);
    clearTimeout(p.timer);
    void this.session(id, new Map([[CLIENT, peer.accept(id, p.opts)], [SERVER, p.link]]), p.ledger, peer.address);
  }

  /** One session, from the key agreement to its end; never throws (a failure is logged and counted). */
  private async session(id: string, links: Map<PartyId, Link>, ledger: Ledger, client: string): Promise<void> {
    const t0 = performance.now();
    const me = this.cfg.role === 'server' ? SERVER : HELPER;
    this.log({ event: 'session-start', session: id, client });
    let ok = false, error: string | undefined, images: number | undefined;
    try {
      const party = await startParty(me, links, ledger, this.connectMs);
      const report = await runSession(party, this.loaded, { onConnected: (i) => (images = i.images) });
      ok = true;
      images = report.images;
    } catch (e) {
      error = (e as Error).message;
      for (const l of links.values()) l.abort(`${this.cfg.role}: ${error}`);
    }
    const sent = ledger.totals({}).sent, received = ledger.totals({}).received;
    this.ended(id, ok, { seconds: (performance.now() - t0) / 1000, sent, received, ...(images !== undefined ? { images } : {}), ...(error ? { error } : {}) });
  }

  private ended(id: string, ok: boolean, r: { seconds: number; sent: number; received: number; images?: number; error?: string }): void {
    this.running.delete(id);
    this.metrics.running = this.running.size;
    this.metrics.ended(ok, r.seconds, r.sent, r.received);
    this.log({ event: ok ? 'session-done' : 'session-failed', session: id, ...r, seconds: Math.round(r.seconds * 1000) / 1000 });
    this.settle();
  }

  private settle(): void {
    if (this.draining && this.running.size === 0) this.drained?.();
  }

  /**
   * Stops taking sessions (new clients are told it is shutting down), waits for the running ones to end,
   * then stops listening.
   */
  async drain(): Promise<void> {
    if (!this.draining) this.log({ event: 'draining', running: this.running.size });
    this.draining = true;
    if (this.running.size > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    await this.close();
    this.log({ event: 'stopped', done: this.metrics.sessions.done, failed: this.metrics.sessions.failed });
  }

  /** Stops listening at once (running sessions are not waited for). */
  async close(): Promise<void> {
    await this.listener.close();
    for (const h of [this.http, this.web]) await new Promise<void>((resolve) => (h ? (h.closeAllConnections?.(), h.close(() => resolve())) : resolve()));
  }
}
