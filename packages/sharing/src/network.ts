/**
 * Running the parties as separate processes (or hosts) over TCP or TLS 1.3 with mutual authentication.
 * The helper listens for the client and the server; the server listens for the client; the client only
 * connects. Each party then agrees PRF keys with the other two over these links.
 * @module
 */
import { connectLink, Ledger, LinkServer, type Link, type LinkOptions, type TlsCredentials } from '@si/net';
import { Party } from './party.ts';
import { CLIENT, HELPER, idOf, roleOf, SERVER, type PartyId, type Role } from './roles.ts';

/** Where the listening parties can be reached. */
export interface Deployment {
  server: { host: string; port: number };
  helper: { host: string; port: number };
}

export interface PartyOptions {
  role: Role;
  deployment: Deployment;
  /** This party's certificate and key and the deployment CA (required unless insecurePlaintext). */
  tls?: TlsCredentials;
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
  try {
    if (id !== CLIENT && listener === undefined) {
      const at = id === SERVER ? o.deployment.server : o.deployment.helper;
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
  try {
    const party = new Party(id, links, ledger);
    // The key agreement is the last step of setting up: a peer that connected and then went silent
    // fails it within the connect timeout, not the (longer) message timeout.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const silent = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${o.role}: the peers connected but the key agreement did not finish within ${wait} ms`)), wait);
    });
    try {
      await Promise.race([party.agreeKeys(), silent]);
    } finally {
      clearTimeout(timer);
    }
    return party;
  } catch (e) {
    for (const l of links.values()) l.close();
    throw e;
  }
}
