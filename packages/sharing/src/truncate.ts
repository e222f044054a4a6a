/**
 * Local truncation of fixed-point shares (SecureML): after a product of two values with f fractional
 * bits, shift the result back by f. P0 computes x0 >> f, P1 computes -((-x1) >> f) (arithmetic shifts),
 * with no communication.
 *
 * Error: write x = x0 + x1 over the integers (no wrap). Then (x0 >> f) - ((-x1) >> f) lies in
 * (x/2^f - 1, x/2^f + 1), so the result is floor(x / 2^f) or floor(x / 2^f) + 1: at most one unit in the
 * last place, upward. When x0 + x1 wraps around 2^64, which happens with probability about |x| / 2^64
 * for a uniformly random x0, the result is off by 2^(64-f) (a catastrophic error). Keep |x| small:
 * at f = 12 and |x| < 2^40 that is below 2^-24 per element.
 * @module
 */
import { aint, RingTensor } from '@si/ring';
import type { Cost } from './cost.ts';
import type { Party } from './party.ts';
import { Shared } from './shared.ts';
import { CLIENT, HELPER } from './roles.ts';

/** Shifts shared x right by f bits (see the module comment for the error). */
export function truncate(p: Party, x: Shared, f: number): Shared {
  aint(f, 'f', 0, 63);
  if (p.id === HELPER || f === 0) return x;
  const s = x.share!;
  return new Shared(x.shape, p.id === CLIENT ? s.shr(f) : s.neg().shrInPlace(f).negInPlace());
}

/** Twin, exact on the given shares: (x0 >> f) + -((-x1) >> f). */
export function truncateClear(x0: RingTensor, x1: RingTensor, f: number): RingTensor {
  return x0.shr(f).add(x1.neg().shr(f).neg());
}

/** Local: no messages, no rounds. */
export const truncateCost = (): Cost => ({ bytes: {}, rounds: 0 });
