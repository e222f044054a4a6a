/**
 * Starting a party once its links are up: the key agreement, bounded in time. Shared by connectParty
 * (TCP/TLS), the services and the browser client (WebSockets).
 * @module
 */
import type { Ledger, Link } from '@si/net';
import { Party } from './party.ts';
import { roleOf, type PartyId } from './roles.ts';

/**
 * A party from its two links (recording into `ledger`), once the PRF keys are agreed; a peer that
 * connected and then went silent fails it within `timeoutMs`. The links are closed on failure.
 */
export async function startParty(id: PartyId, links: Map<PartyId, Link>, ledger: Ledger, timeoutMs: number): Promise<Party> {
  const role = roleOf(id), wait = timeoutMs;
  try {
    const party = new Party(id, links, ledger);
    // The key agreement is the last step of setting up: a peer that connected and then went silent
    // fails it within the connect timeout, not the (longer) message timeout.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const silent = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${role}: the peers connected but the key agreement did not finish within ${wait} ms`)), wait);
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
