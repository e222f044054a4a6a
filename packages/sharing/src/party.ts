/**
 * A party of the three-party session, seen from one scope: its links to the two others, the PRF streams
 * it shares with each (keys agreed at session start by X25519 over the link, so two sessions never share
 * randomness), its ledger, and its private randomness.
 *
 * A Party value is a view of the session at one scope (ledger.ts in @si/net). `p.scope(label, (q) => …)`
 * runs a protocol step in a child scope and hands it the child view `q`; everything `q` sends or receives,
 * and every label it derives for the PRF streams, belongs to that scope. All three parties run the same
 * scopes in the same order; protocols on independent data may run concurrently under sibling scopes
 * (`Promise.all([p.scope('a', …), p.scope('b', …)])`), never two at once in one scope.
 * @module
 */
import { hkdfSha256, x25519Ephemeral } from './crypto.ts';
import { Ledger, memoryLinkPair, type Channel, type Link, type LinkOptions, type Phase, type Scope } from '@si/net';
import { RingTensor, secureRandom } from '@si/ring';
import { PrfStream } from './prf.ts';
import { roleOf, type PartyId, type Role } from './roles.ts';


/** What all views of one party's session share. */
interface Session {
  readonly id: PartyId;
  readonly links: ReadonlyMap<PartyId, Link>;
  readonly ledger: Ledger;
  readonly prfs: Map<PartyId, PrfStream>;
}

const concatBytes = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
};

export class Party {
  readonly id: PartyId;
  readonly role: Role;
  /** The scope this view runs in. */
  readonly at: Scope;
  private readonly s: Session;

  /**
   * The root view of a party: its links to the two peers (each recording into `ledger`).
   * @throws {Error} when a link records into another ledger
   */
  constructor(id: PartyId, links: ReadonlyMap<PartyId, Link>, ledger: Ledger);
  /** @internal a child view */
  constructor(id: PartyId, links: ReadonlyMap<PartyId, Link>, ledger: Ledger, session: Session, scope: Scope);
  constructor(id: PartyId, links: ReadonlyMap<PartyId, Link>, ledger: Ledger, session?: Session, scope?: Scope) {
    this.id = id;
    this.role = roleOf(id);
    if (session && scope) {
      this.s = session;
      this.at = scope;
      return;
    }
    for (const [peer, link] of links) {
      if (link.ledger !== ledger) throw new Error(`link to ${roleOf(peer)} must record into the party's ledger`);
    }
    this.s = { id, links, ledger, prfs: new Map() };
    this.at = ledger.root;
    // A failed link fails the whole session: tell the other peer why instead of leaving it waiting.
    for (const link of links.values()) link.onFailure((e) => this.abort(`${this.role}: ${e.message}`));
  }

  get ledger(): Ledger {
    return this.s.ledger;
  }

  /** Aborts the session: both peers' pending and later receives fail with `reason`. */
  abort(reason: string): void {
    for (const l of this.s.links.values()) l.abort(reason);
  }

  /** The link to a peer, in this view's scope. @throws {Error} for itself or a missing link */
  link(peer: PartyId): Channel {
    const l = this.s.links.get(peer);
    if (l === undefined) throw new Error(`${this.role} has no link to ${roleOf(peer)}`);
    return l.at(this.at);
  }

  /** The PRF stream shared with a peer (after key agreement). */
  prf(peer: PartyId): PrfStream {
    const p = this.s.prfs.get(peer);
    if (p === undefined) throw new Error(`${this.role} has no PRF stream with ${roleOf(peer)}: run agreeKeys() first`);
    return p;
  }

  /**
   * Agrees a fresh 128-bit AES key with each peer: X25519 ephemeral keys exchanged over the
   * (authenticated) link, HKDF-SHA256 over the shared secret bound to both public keys, both roles and,
   * over TLS, the TLS session itself (exported keying material): public keys recorded on one connection
   * and replayed on another give a different key there.
   */
  async agreeKeys(): Promise<void> {
    await this.scope('session-keys', async (q) => {
      await Promise.all([...this.s.links.keys()].map(async (peer) => {
        const eph = x25519Ephemeral();
        const mine = eph.publicKey;
        const theirs = await q.link(peer).exchange('x25519', mine, 32);
        const secret = eph.agree(theirs);
        const [lo, hi] = this.id < peer ? [this.id, peer] : [peer, this.id];
        const [pkLo, pkHi] = this.id < peer ? [mine, theirs] : [theirs, mine];
        const binding = q.link(peer).link.channelBinding ?? new Uint8Array(0);
        const info = concatBytes(new TextEncoder().encode(`si/1 prf ${roleOf(lo)}-${roleOf(hi)}`), pkLo, pkHi, binding);
        const key = hkdfSha256(secret, new TextEncoder().encode('si/1'), info, 16);
        secret.fill(0);
        this.s.prfs.set(peer, new PrfStream(key, `prf${lo}${hi}`));
        key.fill(0);
      }));
    }, 'setup');
  }

  /**
   * Runs fn in a child scope `label` (nested labels join with '/'), with the child view.
   * @throws {Error} when a sibling scope with the same label is running
   */
  scope<T>(label: string, fn: (q: Party) => T | Promise<T>, phase?: Phase): Promise<T> {
    return this.at.scope(label, (s) => fn(new Party(this.id, this.s.links, this.s.ledger, this.s, s)), phase ? { phase } : {});
  }

  /** Runs fn in this scope with another phase (same label and channel). */
  inPhase<T>(phase: Phase, fn: (q: Party) => T | Promise<T>): Promise<T> {
    return this.at.inPhase(phase, (s) => fn(new Party(this.id, this.s.links, this.s.ledger, this.s, s)));
  }

  /** Label of this view's scope plus a purpose, used to domain-separate PRF draws. */
  label(purpose: string): string {
    return `${this.at.label}:${purpose}`;
  }

  /** Random ring elements only this party knows (the operating system's randomness). */
  privateRing(shape: readonly number[]): RingTensor {
    return RingTensor.random(shape, (b) => void secureRandom(b));
  }

  /** Ends the session normally on both links. */
  close(): void {
    for (const l of this.s.links.values()) l.close();
  }
}

/**
 * Three parties in one process over in-memory links, keys agreed. For tests and the cleartext oracle;
 * the same protocols run unchanged over TCP/TLS.
 */
export async function localParties(opts: LinkOptions = {}): Promise<[Party, Party, Party]> {
  const ledgers = [new Ledger(), new Ledger(), new Ledger()];
  const links = [new Map<PartyId, Link>(), new Map<PartyId, Link>(), new Map<PartyId, Link>()];
  for (const [i, j] of [[0, 1], [0, 2], [1, 2]] as [PartyId, PartyId][]) {
    const [a, b] = memoryLinkPair(roleOf(i), roleOf(j), { a: { ...opts, ledger: ledgers[i] }, b: { ...opts, ledger: ledgers[j] } });
    links[i]!.set(j, a);
    links[j]!.set(i, b);
  }
  const parties = [0, 1, 2].map((i) => new Party(i as PartyId, links[i]!, ledgers[i]!)) as [Party, Party, Party];
  await Promise.all(parties.map((p) => p.agreeKeys()));
  return parties;
}
