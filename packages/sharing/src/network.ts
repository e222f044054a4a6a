/**
 * Running the parties as separate processes (or hosts) over TCP or TLS 1.3 with mutual authentication.
 * The helper listens for the client and the server; the server listens for the client; the client only
 * connects. Each party then agrees PRF keys with the other two over these links.
 * @module
 */
import { connectLink, connectSession, Ledger, LinkServer, ProtocolError, type Link, type LinkOptions, type PublicClientTls, type TlsCredentials } from '@si/net';
import type { Party } from './party.ts';
import { startParty } from './start.ts';
import { CLIENT, HELPER, idOf, roleOf, SERVER, type PartyId, type Role } from './roles.ts';

/** Where the listening parties can be reached. */
export interface Deployment {
  server: { host: string; port: number };
  helper: { host: string; port: number };
}

export interface PartyOptions {
  role: Role;
  deployment: Deployment;
  /**
   * This party's certificate and key and the deployment CA (required unless insecurePlaintext); the
   * client of a service with public clients has no certificate.
   */
  tls?: TlsCredentials | PublicClientTls;
  /**
   * The client of a service (`si serve`): ask the server for a new session first, then join it at the
   * helper with the id the server answered.
   */
  service?: boolean;
  /** Plain TCP, unauthenticated and unencrypted, for tests and benchmarks on loopback only. */
  insecurePlaintext?: boolean;
  /** Address to bind when listening (default: the deployment's host for this role). */
  bind?: string;
  /** An already listening server for this role (tests with port 0). */
  listener?: LinkServer;
  link?: Omit<LinkOptions, 'ledger'>;
  /** How long to wait for peers to appear (default 60 s). */
  connectTimeoutMs?: number;
}

/** The roles that connect to a listening role: the server hears from the client, the helper from both. */
export const peersOf = (role: Role): Role[] => (role === 'server' ? ['client'] : role === 'helper' ? ['client', 'server'] : []);

/** Starts one party: sets up its two links and agrees PRF keys. */
export async function connectParty(o: PartyOptions): Promise<Party> {
  const id = idOf(o.role);
  const ledger = new Ledger();
  const linkOpts: LinkOptions = { ...o.link, ledger };
  const wait = o.connectTimeoutMs ?? 60_000;
  const dial = (peer: PartyId): Promise<Link> => {
    const at = peer === SERVER ? o.deployment.server : o.deployment.helper;
    return connectLink({ self: o.role, peer: roleOf(peer), host: at.host, port: at.port, tls: o.tls, insecurePlaintext: o.insecurePlaintext, link: linkOpts, connectTimeoutMs: wait });
  };
  const links = new Map<PartyId, Link>();
  let listener = o.listener;
  if (o.service) {
    if (id !== CLIENT) throw new Error(`only the client connects to a service; the ${o.role} serves (si serve)`);
    try {
      const at = o.deployment.server;
      const s = await connectSession({ self: o.role, peer: 'server', host: at.host, port: at.port, tls: o.tls, insecurePlaintext: o.insecurePlaintext, link: linkOpts, connectTimeoutMs: wait, session: 'new' });
      links.set(SERVER, s.link);
      if (s.session === undefined) throw new ProtocolError('server', `the server at ${at.host}:${at.port} is not a service (it answered without a session): run it with si serve, or the client with si party`);
      const h = await connectSession({ self: o.role, peer: 'helper', host: o.deployment.helper.host, port: o.deployment.helper.port, tls: o.tls, insecurePlaintext: o.insecurePlaintext, link: linkOpts, connectTimeoutMs: wait, session: s.session });
      links.set(HELPER, h.link);
    } catch (e) {
      for (const l of links.values()) l.close();
      throw e;
    }
    return startParty(id, links, ledger, wait);
  }
  try {
    if (id !== CLIENT && listener === undefined) {
      const at = id === SERVER ? o.deployment.server : o.deployment.helper;
      if (o.tls && 'anonymous' in o.tls) throw new Error(`the ${o.role} listens, so it needs a certificate (anonymous TLS is for a service's public clients)`);
      listener = await LinkServer.listen({ self: o.role, host: o.bind ?? at.host, port: at.port, tls: o.tls, insecurePlaintext: o.insecurePlaintext, link: linkOpts, peers: peersOf(o.role) });
    }
    const pending: [PartyId, Promise<Link>][] =
      id === CLIENT ? [[SERVER, dial(SERVER)], [HELPER, dial(HELPER)]]
      : id === SERVER ? [[CLIENT, listener!.accept('client', { timeoutMs: wait, link: linkOpts })], [HELPER, dial(HELPER)]]
      : [[CLIENT, listener!.accept('client', { timeoutMs: wait, link: linkOpts })], [SERVER, listener!.accept('server', { timeoutMs: wait, link: linkOpts })]];
    const settled = await Promise.allSettled(pending.map(([, l]) => l));
    settled.forEach((s, i) => s.status === 'fulfilled' && links.set(pending[i]![0], s.value));
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  } catch (e) {
    for (const l of links.values()) l.close();
    throw e;
  } finally {
    if (listener !== undefined && o.listener === undefined) await listener.close();
  }
  return startParty(id, links, ledger, wait);
}

