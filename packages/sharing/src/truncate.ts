/**
 * Truncation of fixed-point shares: after a product of two values with f fractional bits, shift the
 * result back by f.
 *
 * Local (SecureML): P0 computes x0 >> f, P1 computes -((-x1) >> f) (arithmetic shifts; truncateShare),
 * with no communication. Write x = x0 + x1 over the integers (no wrap). Then (x0 >> f) - ((-x1) >> f)
 * lies in (x/2^f - 1, x/2^f + 1), so the result is floor(x / 2^f) or floor(x / 2^f) + 1: at most one unit
 * in the last place, upward, with mean x / 2^f over P0's uniform share. When x0 + x1 wraps around 2^64,
 * which happens with probability about |x| / 2^64, the result is off by 2^(64-f) (a catastrophic error).
 * Keep |x| small: at f = 12 and |x| < 2^40 that is below 2^-24 per element. The carry depends on x0 mod
 * 2^f, which P0 knows: opened to P0, the result tells it one bit about x's low bits.
 *
 * Dealt (truncateDealt): the helper deals a pair (r, r >>> f) in shares; P0 sends x0 + r0 to P1, who opens
 * c = x + r and keeps (c >>> f) - [r >>> f]_1, while P0 keeps -[r >>> f]_0. The result is again
 * floor(x / 2^f) or one more, but the carry depends on r, which only the helper knows, so opening it to
 * P0 tells P0 nothing about x beyond the value. Same wrap error (x + r past 2^64, probability |x| / 2^64).
 * One round, 8 bytes per element from P0 and 8 from the helper.
 * @module
 */
import { aint, RingTensor, shapeSize } from '@si/ring';
import { messages, type Cost } from './cost.ts';
import { dealer } from './dealer.ts';
import type { Party } from './party.ts';
import { protocol, signedBits, type Tolerance } from './protocol.ts';
import { Shared } from './shared.ts';
import { CLIENT, HELPER, SERVER } from './roles.ts';

/** One party's local truncation of its share: P0 `x0 >> f`, P1 `-((-x1) >> f)` (arithmetic shifts). */
export function truncateShare(share: RingTensor, f: number, party: 0 | 1): RingTensor {
  if (f === 0) return share;
  return party === 0 ? share.shr(f) : share.neg().shrInPlace(f).negInPlace();
}

/** Shifts shared x right by f bits locally (see the module comment for the error). */
function truncateLocal(p: Party, x: Shared, f: number): Shared {
  aint(f, 'f', 0, 63);
  if (p.id === HELPER || f === 0) return x;
  return new Shared(x.shape, truncateShare(x.share!, f, p.id as 0 | 1));
}

async function truncateDealtRun(p: Party, x: Shared, f: number): Promise<Shared> {
  aint(f, 'f', 0, 63);
  return p.scope('truncate-dealt', async (q) => {
    const { r, rf } = dealer(q).truncPair(x.shape, f);
    if (q.id === HELPER) return new Shared(x.shape, null);
    if (q.id === CLIENT) {
      q.link(SERVER).send('masked', x.share!.add(r).data);
      return new Shared(x.shape, (await rf)!.neg());
    }
    const c = new RingTensor(await q.link(CLIENT).recvI64('masked', x.size), x.shape).addInPlace(x.share!).addInPlace(r);
    return new Shared(x.shape, c.shrLogical(f).subInPlace((await rf)!));
  });
}

interface TruncParams {
  shape: readonly number[];
  f: number;
}

/** floor(x / 2^f) or one more, as the module comment proves; the rare wrap is excluded by the domain. */
const floorOrOneMore: Tolerance<TruncParams> = {
  describe: 'floor(x / 2^f) or floor(x / 2^f) + 1 (one ulp up, with mean x / 2^f); inputs kept within 2^62 so the shares never wrap in the checker',
  check(got, want) {
    const d = got.sub(want).data;
    for (let i = 0; i < d.length; i++) if (d[i] !== 0n && d[i] !== 1n) return `element ${i}: ${got.data[i]} is ${d[i]} off floor(x / 2^f) = ${want.data[i]}`;
    return null;
  },
};

const truncRecord = (name: string, run: (p: Party, x: Shared, f: number) => Shared | Promise<Shared>, cost: (o: TruncParams) => Cost) => ({
  name,
  inputs: (o: TruncParams) => [{ shape: o.shape, domain: signedBits(40) }],
  run: (p: Party, [x]: readonly unknown[], o: TruncParams) => Promise.resolve(run(p, x as Shared, o.f)),
  clear: ([x]: readonly RingTensor[], o: TruncParams) => x!.shr(o.f),
  cost,
  tolerance: floorOrOneMore,
  examples: [{ shape: [4, 33], f: 12 }, { shape: [9], f: 0 }, { shape: [2, 5], f: 1 }, { shape: [64], f: 16 }],
});

/**
 * Local truncation of shared x by f bits (no messages; see the module comment for its error).
 * @throws {RangeError} for f outside [0, 63]
 */
export const truncate = protocol(truncateLocal, truncRecord('truncate', truncateLocal, () => ({ bytes: {}, rounds: 0 })));

/** Truncation by f bits with a helper-dealt pair (r, r >>> f): the carry does not depend on any share P0 holds. */
export const truncateDealt = protocol(truncateDealtRun, truncRecord('truncate-dealt', truncateDealtRun, (o) => truncateDealtCost(shapeSize(o.shape))));

/** x0 + r0 from P0 to P1 and the helper's share of r >>> f: 16 bytes per element, one round. */
export function truncateDealtCost(n: number): Cost {
  return messages([['2>1', 8 * n], ['0>1', 8 * n]]);
}
