/**
 * A party of the three-party session: its links to the two others, the PRF streams it shares with each
 * (keys agreed at session start by X25519 over the link, so two sessions never share randomness), its
 * ledger, and its private randomness.
 * @module
 */
import { createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, randomFillSync } from 'node:crypto';
import { Ledger, memoryLinkPair, type Link, type LinkOptions, type Phase } from '@si/net';
import { RingTensor } from '@si/ring';
import { PrfStream } from './prf.ts';
import { roleOf, type PartyId, type Role } from './roles.ts';

const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');

export class Party {
  readonly role: Role;
  private readonly prfs = new Map<PartyId, PrfStream>();

  constructor(readonly id: PartyId, private readonly links: ReadonlyMap<PartyId, Link>, readonly ledger: Ledger) {
    this.role = roleOf(id);
    for (const [peer, link] of links) {
      if (link.ledger !== ledger) throw new Error(`link to ${roleOf(peer)} must record into the party's ledger`);
    }
    // A failed link fails the whole session: tell the other peer why instead of leaving it waiting.
    for (const link of links.values()) link.onFailure((e) => this.abort(`${this.role}: ${e.message}`));
  }

  /** Aborts the session: both peers' pending and later receives fail with `reason`. */
  abort(reason: string): void {
    for (const l of this.links.values()) l.abort(reason);
  }

  /** The link to a peer. @throws {Error} for itself or a missing link */
  link(peer: PartyId): Link {
    const l = this.links.get(peer);
    if (l === undefined) throw new Error(`${this.role} has no link to ${roleOf(peer)}`);
    return l;
  }

  /** The PRF stream shared with a peer (after key agreement). */
  prf(peer: PartyId): PrfStream {
    const p = this.prfs.get(peer);
    if (p === undefined) throw new Error(`${this.role} has no PRF stream with ${roleOf(peer)}: run agreeKeys() first`);
    return p;
  }

  /**
   * Agrees a fresh 128-bit AES key with each peer: X25519 ephemeral keys exchanged over the
   * (authenticated) link, HKDF-SHA256 over the shared secret bound to both public keys and roles.
   */
  async agreeKeys(): Promise<void> {
    await this.ledger.scope('session-keys', async () => {
      await Promise.all([...this.links.entries()].map(async ([peer, link]) => {
        const { publicKey, privateKey } = generateKeyPairSync('x25519');
        const mine = publicKey.export({ type: 'spki', format: 'der' }).subarray(SPKI_X25519.length);
        const theirs = await link.exchange('x25519', mine, 32);
        const peerKey = createPublicKey({ key: Buffer.concat([SPKI_X25519, theirs]), format: 'der', type: 'spki' });
        const secret = diffieHellman({ privateKey, publicKey: peerKey });
        const [lo, hi] = this.id < peer ? [this.id, peer] : [peer, this.id];
        const [pkLo, pkHi] = this.id < peer ? [mine, theirs] : [theirs, mine];
        const info = Buffer.concat([Buffer.from(`si/1 prf ${roleOf(lo)}-${roleOf(hi)}`), pkLo, pkHi]);
        const key = new Uint8Array(hkdfSync('sha256', secret, Buffer.from('si/1'), info, 16));
        this.prfs.set(peer, new PrfStream(key, `prf${lo}${hi}`));
      }));
    }, { phase: 'setup' });
  }

  /** Runs fn under a ledger label (nested labels join with '/'). */
  scope<T>(label: string, fn: () => T | Promise<T>, phase?: Phase): Promise<T> {
    return this.ledger.scope(label, fn, phase ? { phase } : {});
  }

  /** Label of the current scope, used to domain-separate PRF draws. */
  label(purpose: string): string {
    return `${this.ledger.label}:${purpose}`;
  }

  /** Random ring elements only this party knows (node:crypto). */
  privateRing(shape: readonly number[]): RingTensor {
    return RingTensor.random(shape, (b) => void randomFillSync(b));
  }

  /** Ends the session normally on both links. */
  close(): void {
    for (const l of this.links.values()) l.close();
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
