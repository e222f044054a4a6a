/**
 * Reveal (open) a shared value to P0, to P1, or to both: the other party sends its share.
 * @module
 */
import { RingTensor } from '@si/ring';
import type { Cost } from './cost.ts';
import type { Party } from './party.ts';
import type { Shared } from './shared.ts';
import { CLIENT, HELPER, SERVER } from './roles.ts';

export type RevealTo = 'client' | 'server' | 'both';

/**
 * Opens x to `to`.
 * @returns the value at the receiving party (or both), null elsewhere
 */
export async function reveal(p: Party, x: Shared, to: RevealTo): Promise<RingTensor | null> {
  if (p.id === HELPER) return null;
  const mine = x.share!;
  const peer = p.id === CLIENT ? SERVER : CLIENT;
  const link = p.link(peer);
  const receives = to === 'both' || (to === 'client') === (p.id === CLIENT);
  if (to === 'both') {
    const theirs = await link.exchangeI64('reveal', mine.data);
    return mine.add(new RingTensor(theirs, x.shape));
  }
  if (!receives) {
    link.send('reveal', mine.data);
    return null;
  }
  const theirs = await link.recvI64('reveal', x.size);
  return mine.add(new RingTensor(theirs, x.shape));
}

/** Twin: the opened value is x0 + x1. */
export const revealClear = (x0: RingTensor, x1: RingTensor): RingTensor => x0.add(x1);

/** One share (8 bytes per element) in each direction that receives; one round. */
export function revealCost(n: number, to: RevealTo): Cost {
  const b = 8 * n;
  if (to === 'both') return { bytes: { '0>1': b, '1>0': b }, rounds: 1 };
  return { bytes: to === 'client' ? { '1>0': b } : { '0>1': b }, rounds: 1 };
}
