/**
 * Input sharing: the owner (P0 or P1) splits x into x0 + x1 without sending anything. The other party's
 * share is drawn from the PRF stream the two share, and the owner keeps x minus it.
 * @module
 */
import { ashape, RingTensor } from '@si/ring';
import type { Cost } from './cost.ts';
import type { Party } from './party.ts';
import { Shared } from './shared.ts';
import { CLIENT, HELPER, SERVER, type PartyId } from './roles.ts';

/**
 * Shares a tensor owned by P0 (client) or P1 (server).
 * @param value - the tensor, at the owner only
 * @throws {Error} when the owner has no value or its shape differs
 */
export function shareInput(p: Party, owner: PartyId, shape: readonly number[], value?: RingTensor): Shared {
  if (owner !== CLIENT && owner !== SERVER) throw new RangeError(`"owner" must be the client (0) or the server (1), got ${owner}`);
  if (p.id === HELPER) return new Shared(shape, null);
  const other = owner === CLIENT ? SERVER : CLIENT;
  const mask = p.prf(p.id === CLIENT ? SERVER : CLIENT).ring(p.label('input'), shape);
  if (p.id === other) return new Shared(shape, mask);
  if (value === undefined) throw new Error(`${p.role} owns the input but passed no value`);
  ashape(value.shape, shape, 'value');
  return new Shared(shape, value.sub(mask));
}

/** Twin: sharing does not change the value. */
export const shareInputClear = (x: RingTensor): RingTensor => x;

/** No messages, no rounds. */
export const shareInputCost = (): Cost => ({ bytes: {}, rounds: 0 });
