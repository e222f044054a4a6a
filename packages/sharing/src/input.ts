/**
 * Input sharing: the owner (P0 or P1) splits x into x0 + x1 without sending anything. The other party's
 * share is a mask the two draw from the stream they share (the dealer's commonRing), and the owner keeps
 * x minus it.
 * @module
 */
import { ashape, RingTensor } from '@si/ring';
import type { Cost } from './cost.ts';
import { dealer } from './dealer.ts';
import type { Party } from './party.ts';
import { protocol } from './protocol.ts';
import { Shared } from './shared.ts';
import { CLIENT, HELPER, SERVER, type PartyId } from './roles.ts';

function shareInputRun(p: Party, owner: PartyId, shape: readonly number[], value?: RingTensor): Shared {
  if (owner !== CLIENT && owner !== SERVER) throw new RangeError(`"owner" must be the client (0) or the server (1), got ${owner}`);
  const mask = dealer(p).commonRing(shape);
  if (p.id === HELPER) return new Shared(shape, null);
  if (p.id !== owner) return new Shared(shape, mask);
  if (value === undefined) throw new Error(`${p.role} owns the input but passed no value`);
  ashape(value.shape, shape, 'value');
  return new Shared(shape, value.sub(mask!));
}

/** No messages, no rounds. */
export const shareInputCost = (): Cost => ({ bytes: {}, rounds: 0 });

/**
 * Shares a tensor owned by P0 (client) or P1 (server). Local (no message), so it needs no scope of its own.
 * @param value - the tensor, at the owner only
 * @throws {Error} when the owner has no value or its shape differs
 */
export const shareInput = protocol(shareInputRun, {
  name: 'share-input',
  inputs: (o: { shape: readonly number[]; owner: 0 | 1 }) => [{ shape: o.shape, as: o.owner === CLIENT ? 'client' : 'server' }],
  run: (p, [x], o) => Promise.resolve(shareInputRun(p, o.owner, o.shape, (x as RingTensor | null) ?? undefined)),
  clear: ([x]) => x!,
  cost: shareInputCost,
  examples: [{ shape: [3, 5], owner: 0 }, { shape: [4], owner: 1 }],
});
