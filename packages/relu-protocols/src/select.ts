/**
 * select(b, x, y) = b ? x : y for a shared bit b and shared x, y: y + b * (x - y), one bit product.
 * @module
 */
import { RingTensor } from '@si/ring';
import { add, sub, type Cost, type Party, type Shared } from '@si/sharing';
import { mulBit, mulBitCost, type SharedBit } from './bit.ts';
import { pick } from './bit.ts';

/** b ? x : y, elementwise. */
export async function select(p: Party, b: SharedBit, x: Shared, y: Shared): Promise<Shared> {
  return add(p, y, await mulBit(p, b, sub(p, x, y)));
}

/** Twin. */
export const selectClear = (b: Uint8Array, x: RingTensor, y: RingTensor): RingTensor => pick(b, x, y);

/** One bit product. */
export const selectCost = (n: number): Cost => mulBitCost(n);
