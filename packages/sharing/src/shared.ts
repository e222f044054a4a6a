/**
 * Additive 2-out-of-2 sharing over Z_2^64 between P0 and P1: x = x0 + x1 (mod 2^64). The helper P2 holds
 * no shares, only the (public) shape. The operations here are local (the same linear map on each share),
 * cost nothing and need no scope; the helper's Shared stays share-less through all of them.
 * @module
 */
import { ashape, resolveShape, RingTensor, shapeSize } from '@si/ring';
import type { Party } from './party.ts';
import { dealer } from './dealer.ts';
import { protocol } from './protocol.ts';
import { CLIENT, HELPER, SERVER } from './roles.ts';

/** This party's view of a shared tensor: its share (null at the helper) and the public shape. */
export class Shared {
  constructor(readonly shape: readonly number[], readonly share: RingTensor | null) {
    if (share !== null) ashape(share.shape, shape, 'share');
  }

  get size(): number {
    return shapeSize(this.shape);
  }

  /** The same shares viewed with another shape (same number of elements; one dimension may be -1). */
  reshape(shape: readonly number[]): Shared {
    if (this.share) {
      const s = this.share.reshape(shape);
      return new Shared(s.shape, s);
    }
    return new Shared(resolveShape(this.size, shape, this.shape), null);
  }

  /** Applies the same linear map to the share (the helper's stays null). */
  map(fn: (share: RingTensor) => RingTensor, shape?: readonly number[]): Shared {
    if (this.share === null) {
      if (shape === undefined) throw new Error('the helper needs the output shape of a local map');
      return new Shared(shape, null);
    }
    const s = fn(this.share);
    return new Shared(s.shape, s);
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

/** Shares of a public value (a tensor, or a scalar filling `shape`): P1 holds it, P0 zeros. */
export function fromPublic(p: Party, shape: readonly number[], c: RingTensor | bigint | number): Shared {
  if (p.id === HELPER) return new Shared(shape, null);
  const zero = RingTensor.zeros(shape);
  if (p.id !== SERVER) return new Shared(shape, zero);
  if (!(c instanceof RingTensor)) return new Shared(shape, zero.addScalar(c));
  ashape(c.shape, shape, 'c');
  return new Shared(shape, c.clone());
}

/** x + c for a public c, a tensor of x's shape or a scalar (the server adds it to its share). */
export function addPublic(p: Party, x: Shared, c: RingTensor | bigint | number): Shared {
  if (c instanceof RingTensor) ashape(c.shape, x.shape, 'c');
  if (p.id !== SERVER) return x;
  return new Shared(x.shape, c instanceof RingTensor ? x.share!.add(c) : x.share!.addScalar(c));
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

function shapeAlong(shapes: readonly (readonly number[])[], axis: number): number[] {
  const out = [...shapes[0]!];
  out[axis] = shapes.reduce((s, t) => s + t[axis]!, 0);
  return out;
}

/** Concatenation along `axis` (the other dimensions must agree). */
export function concat(xs: readonly Shared[], axis: number): Shared {
  if (xs.length === 0) throw new RangeError('"xs" expected at least one shared tensor');
  const shape = shapeAlong(xs.map((x) => x.shape), axis);
  if (xs.every((x) => x.share)) return new Shared(shape, RingTensor.concat(xs.map((x) => x.share!), axis));
  return new Shared(shape, null);
}

/** Elements [start, end) along `axis`. */
export function slice(x: Shared, axis: number, start: number, end: number): Shared {
  const shape = [...x.shape];
  shape[axis] = end - start;
  return x.map((s) => s.slice(axis, start, end), shape);
}

/** Splits along `axis` into parts of the given sizes (they must add up to the dimension). */
export function split(x: Shared, sizes: readonly number[], axis: number): Shared[] {
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total !== x.shape[axis]) throw new RangeError(`"sizes" add up to ${total}, dimension ${axis} of [${x.shape.join(',')}] is ${x.shape[axis]}`);
  const out: Shared[] = [];
  let at = 0;
  for (const n of sizes) {
    out.push(slice(x, axis, at, at + n));
    at += n;
  }
  return out;
}

/** out[i] = x[idx[i]] (flat indices into x), with the given shape. */
export function gather(x: Shared, idx: Int32Array | readonly number[], shape: readonly number[] = [idx.length]): Shared {
  return x.map((s) => s.gather(idx, shape), shape);
}

function rerandomizeRun(p: Party, x: Shared): Shared {
  const mu = dealer(p).commonRing(x.shape);
  if (p.id === HELPER) return x;
  return new Shared(x.shape, p.id === CLIENT ? x.share!.add(mu!) : x.share!.sub(mu!));
}

/**
 * Fresh shares of the same value: P0 adds and P1 subtracts a mask mu that the two share (a zero-sharing
 * from the dealer); no communication.
 */
export const rerandomize = protocol(rerandomizeRun, {
  name: 'rerandomize',
  inputs: (o: { shape: readonly number[] }) => [{ shape: o.shape }],
  run: (p, [x]) => Promise.resolve(rerandomizeRun(p, x as Shared)),
  clear: ([x]) => x!,
  cost: () => ({ bytes: {}, rounds: 0 }),
  examples: [{ shape: [3, 4] }],
});
