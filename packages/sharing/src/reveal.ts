/**
 * Reveal (open) a shared value to P0, to P1, or to both: the other party sends its share.
 * @module
 */
import { RingTensor, shapeSize } from '@si/ring';
import { messages, type Cost } from './cost.ts';
import type { Party } from './party.ts';
import { protocol } from './protocol.ts';
import type { Shared } from './shared.ts';
import { CLIENT, HELPER, SERVER } from './roles.ts';

export type RevealTo = 'client' | 'server' | 'both';

function revealRun(p: Party, x: Shared, to: RevealTo): Promise<RingTensor | null> {
  return p.scope('reveal', async (q) => {
    if (q.id === HELPER) return null;
    const mine = x.share!;
    const link = q.link(q.id === CLIENT ? SERVER : CLIENT);
    if (to === 'both') return mine.add(new RingTensor(await link.exchangeI64('share', mine.data), x.shape));
    if ((to === 'client') !== (q.id === CLIENT)) {
      link.send('share', mine.data);
      return null;
    }
    return mine.add(new RingTensor(await link.recvI64('share', x.size), x.shape));
  });
}

/** One share (8 bytes per element) in each direction that receives; one round. */
export function revealCost(n: number, to: RevealTo): Cost {
  const b = 8 * n;
  if (to === 'both') return messages([['0>1', b], ['1>0', b]]);
  return messages([[to === 'client' ? '1>0' : '0>1', b]]);
}

/**
 * Opens x to `to`, in a scope 'reveal'.
 * @returns the value at the receiving party (or both), null elsewhere
 */
export const reveal = protocol(revealRun, {
  name: 'reveal',
  inputs: (o: { shape: readonly number[]; to: RevealTo }) => [{ shape: o.shape }],
  run: (p, [x], o) => revealRun(p, x as Shared, o.to),
  clear: ([x]) => x!,
  cost: (o) => revealCost(shapeSize(o.shape), o.to),
  output: (o) => o.to,
  examples: [{ shape: [3, 5], to: 'client' }, { shape: [7], to: 'server' }, { shape: [2, 2], to: 'both' }, { shape: [0], to: 'both' }],
});
