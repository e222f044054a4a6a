/**
 * Additive 2-out-of-2 sharing over Z_2^64 between P0 and P1: x = x0 + x1 (mod 2^64). The helper P2 holds
 * no shares, only the (public) shape. Local operations need no communication.
 * @module
 */
import { ashape, RingTensor } from '@si/ring';
import type { Party } from './party.ts';
import { HELPER, SERVER } from './roles.ts';

/** This party's view of a shared tensor: its share (null at the helper) and the public shape. */
export class Shared {
  constructor(readonly shape: readonly number[], readonly share: RingTensor | null) {
    if (share !== null) ashape(share.shape, shape, 'share');
  }

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  /** The same shares viewed with another shape (same number of elements). */
  reshape(shape: readonly number[]): Shared {
    const s = this.share?.reshape(shape) ?? null;
    return new Shared(s?.shape ?? shape, s);
  }
}

/** The helper's placeholder for a shared value of a shape. */
export const helperView = (shape: readonly number[]): Shared => new Shared(shape, null);

function both(p: Party, x: Shared, y: Shared, title: string): void {
  ashape(y.shape, x.shape, title);
  if (p.id !== HELPER && (x.share === null || y.share === null)) throw new Error(`${p.role} is missing a share`);
}

/** x + y. */
export function add(p: Party, x: Shared, y: Shared): Shared {
  both(p, x, y, 'y');
  return new Shared(x.shape, x.share && y.share ? x.share.add(y.share) : null);
}

/** x - y. */
export function sub(p: Party, x: Shared, y: Shared): Shared {
  both(p, x, y, 'y');
  return new Shared(x.shape, x.share && y.share ? x.share.sub(y.share) : null);
}

/** -x. */
export function neg(_p: Party, x: Shared): Shared {
  return new Shared(x.shape, x.share?.neg() ?? null);
}

/** x + c for a public c (the server adds it to its share). */
export function addPublic(p: Party, x: Shared, c: RingTensor): Shared {
  ashape(c.shape, x.shape, 'c');
  if (p.id !== SERVER) return x;
  return new Shared(x.shape, x.share!.add(c));
}

/** x * s for a public scalar s (each party scales its share). */
export function mulScalar(_p: Party, x: Shared, s: bigint | number): Shared {
  return new Shared(x.shape, x.share?.mulScalar(s) ?? null);
}

/** x ⊙ c for a public tensor c. */
export function mulPublic(_p: Party, x: Shared, c: RingTensor): Shared {
  ashape(c.shape, x.shape, 'c');
  return new Shared(x.shape, x.share?.mul(c) ?? null);
}

/**
 * Fresh shares of the same value: P0 adds and P1 subtracts a mask mu drawn from their common PRF
 * stream (a zero-sharing); no communication.
 */
export function rerandomize(p: Party, x: Shared): Shared {
  if (p.id === HELPER) return x;
  const mu = p.prf(p.id === 0 ? 1 : 0).ring(p.label('rerandomize'), x.shape);
  return new Shared(x.shape, p.id === 0 ? x.share!.add(mu) : x.share!.sub(mu));
}
