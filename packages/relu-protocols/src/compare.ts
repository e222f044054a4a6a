/**
 * Comparisons built on the sign test: ge, gt, select (where), and max / argmax over an axis.
 *
 * max and argmax reduce the n candidates along the axis as a tree: log2(n) levels, each one batched sign
 * test on the differences a - b of all pairs of the level (3 rounds), with the selection riding along as
 * the sign test's product: max(a, b) = b + (a - b) [a - b >= 0], and the index the same way, so a level
 * costs no extra round. Ties keep the earlier candidate, so argmax returns the first maximum, as NumPy's.
 *
 * Truncated modes compare the differences on the mode's window: exact when every difference lies in
 * exactDomain(mode) and is not in [-2^d, 0), where a candidate up to 2^d below the other may win (the
 * result is then at most levels * 2^d below the maximum).
 * @module
 */
import { RingTensor, shapeSize } from '@si/ring';
import {
  add, concat, fromPublic, mulScalar, neg, protocol, Shared, slice, sub, sequential, type Cost, type Party, type SharedBit,
  type Tolerance,
} from '@si/sharing';
import { mulBit, mulBitCost } from './bit.ts';
import { columnsOf, firstMaxClear, repeat } from './_columns.ts';
import { RingTensor as RT } from '@si/ring';
import { compareCost, differenceDomain, drelu, dreluCost, FULL, isNonNegative, signTest, windowOf, windowsOf, type DreluMode } from './drelu.ts';

async function selectRun(p: Party, b: SharedBit, x: Shared, y: Shared): Promise<Shared> {
  return add(p, y, await mulBit(p, b, sub(p, x, y)));
}

/** select(b, x, y) = b ? x : y for a shared bit b and shared x, y: y + b (x - y), one bit product (24 bytes per element, one round). */
export const select = protocol(selectRun, {
  name: 'select',
  inputs: (o: { shape: readonly number[] }) => [{ shape: o.shape, as: 'bit' }, { shape: o.shape }, { shape: o.shape }],
  run: (p, [b, x, y]) => selectRun(p, b as SharedBit, x as Shared, y as Shared),
  clear: ([b, x, y]) => RingTensor.from(Array.from(b!.data, (v, i) => (v ? x!.data[i]! : y!.data[i]!)), b!.shape),
  cost: (o) => mulBitCost(shapeSize(o.shape)),
  examples: [{ shape: [3, 11] }],
});

interface PairParams {
  shape: readonly number[];
  mode: DreluMode;
}

/** A bit that the rounding of the window may flip where x - y is in [lo, hi). */
const roundingZone = (lo: (D: bigint) => bigint, hi: (D: bigint) => bigint): Tolerance<PairParams> => ({
  describe: 'exact, except where the difference is within 2^d of the boundary (the window rounds it)',
  check(got, want, [x, y], o) {
    const D = 2n ** BigInt(windowOf(o.mode).d);
    for (let i = 0; i < got.size; i++) {
      if (got.data[i] === want.data[i]) continue;
      const diff = x!.data[i]! - y!.data[i]!;
      if (windowOf(o.mode).k === 64 || diff < lo(D) || diff >= hi(D)) return `element ${i}: ${got.data[i]} for x - y = ${diff}`;
    }
    return null;
  },
});

const PAIR_EXAMPLES: PairParams[] = [{ shape: [40], mode: FULL }, { shape: [2, 30], mode: { mode: 'small-ring', dropLowBits: 4, keepBits: 16 } }];

/** [x >= y] as a SharedBit: DReLU of x - y (one sign test). */
export const ge = protocol((p: Party, x: Shared, y: Shared, mode: DreluMode = FULL) => drelu(p, sub(p, x, y), mode), {
  name: 'ge',
  inputs: (o: PairParams) => [{ shape: o.shape, domain: differenceDomain(o.mode) }, { shape: o.shape, domain: differenceDomain(o.mode) }],
  run: (p, [x, y], o) => drelu(p, sub(p, x as Shared, y as Shared), o.mode),
  clear: ([x, y]) => isNonNegative(x!.sub(y!)),
  cost: (o) => dreluCost(shapeSize(o.shape), o.mode),
  tolerance: roundingZone((D) => -D, () => 0n),
  examples: PAIR_EXAMPLES,
});

/** [x > y] as a SharedBit: NOT [y - x >= 0] (one sign test). */
export const gt = protocol(async (p: Party, x: Shared, y: Shared, mode: DreluMode = FULL) => (await drelu(p, sub(p, y, x), mode)).not(), {
  name: 'gt',
  inputs: (o: PairParams) => [{ shape: o.shape, domain: differenceDomain(o.mode) }, { shape: o.shape, domain: differenceDomain(o.mode) }],
  run: async (p, [x, y], o) => (await drelu(p, sub(p, y as Shared, x as Shared), o.mode)).not(),
  clear: ([x, y]) => RingTensor.from(Array.from(x!.data, (v, i) => (v > y!.data[i]! ? 1 : 0)), x!.shape),
  cost: (o) => dreluCost(shapeSize(o.shape), o.mode),
  tolerance: roundingZone(() => 1n, (D) => D + 1n),
  examples: PAIR_EXAMPLES,
});

/** Level sizes of the tree: pairs per level for n candidates. */
function levels(n: number): number[] {
  const out: number[] = [];
  for (let c = n; c > 1; c = Math.ceil(c / 2)) out.push(Math.floor(c / 2));
  return out;
}

async function reduceTree(p: Party, x: Shared, axis: number, mode: DreluMode, withIndex: boolean): Promise<{ value: Shared; index: Shared | null; shape: number[] }> {
  const { cols, outShape } = columnsOf(x, axis);
  const M = shapeSize(outShape);
  let vals = cols;
  let idx = withIndex ? cols.map((_, t) => fromPublic(p, [M], t)) : null;
  for (const [level, pairs] of levels(cols.length).entries()) {
    const diff = concat([...Array(pairs).keys()].map((i) => sub(p, vals[2 * i]!, vals[2 * i + 1]!)), 0);
    const parts = [diff];
    if (idx) parts.push(concat([...Array(pairs).keys()].map((i) => sub(p, idx![2 * i]!, idx![2 * i + 1]!)), 0));
    const times = parts.length;
    const { product } = await p.scope(`level${level}`, (q) => signTest(q, windowsOf(q, diff, mode), [pairs * M], {
      x: concat(parts, 0),
      expand: {
        bytes: (b) => repeat(b, times),
        ring: (t) => RingTensor.concat(Array(times).fill(t.reshape([pairs * M])), 0),
      },
    }));
    const take = (from: Shared[], part: number): Shared[] => {
      const next = [...Array(pairs).keys()].map((i) => add(p, from[2 * i + 1]!, slice(product!, 0, (part * pairs + i) * M, (part * pairs + i + 1) * M)));
      if (from.length % 2 === 1) next.push(from[from.length - 1]!);
      return next;
    };
    vals = take(vals, 0);
    if (idx) idx = take(idx, 1);
  }
  return { value: vals[0]!.reshape(outShape), index: idx && idx[0]!.reshape(outShape), shape: outShape };
}

/** Declared cost of max (withIndex false) or argmax over an axis of a tensor of shape `shape`. */
export function treeCost(shape: readonly number[], axis: number, mode: DreluMode, withIndex: boolean): Cost {
  const M = shapeSize(shape) / shape[axis]!;
  const { k, zBytes, hops } = windowOf(mode);
  return sequential(...levels(shape[axis]!).map((pairs) => compareCost(pairs * M, k, zBytes, (withIndex ? 2 : 1) * pairs * M, hops)));
}

interface TreeParams {
  shape: readonly number[];
  axis: number;
  mode: DreluMode;
}

/** Within levels * 2^d of the maximum in truncated modes (see the module comment); exact in full mode. */
function nearMax(pickValue: (got: bigint, row: bigint[]) => bigint): Tolerance<TreeParams> {
  return {
    describe: 'exact in full mode; in truncated modes at most levels * 2^d below the maximum (a difference in [-2^d, 0) may pick the smaller)',
    check(got, want, [x], o) {
      const { k, d } = windowOf(o.mode);
      const cols = columnsOf(new Shared(x!.shape, x!), o.axis).cols.map((c) => c.share!.data);
      const slack = BigInt(levels(o.shape[o.axis]!).length) * 2n ** BigInt(d);
      for (let i = 0; i < got.size; i++) {
        const row = cols.map((c) => c[i]!);
        const best = row.reduce((a, b) => (b > a ? b : a));
        const v = pickValue(got.data[i]!, row);
        if (k === 64 ? got.data[i] !== want.data[i] : v > best || v < best - slack) return `element ${i}: ${got.data[i]} (value ${v}), maximum ${best}`;
      }
      return null;
    },
  };
}

const TREE_EXAMPLES: TreeParams[] = [
  { shape: [2, 10], axis: 1, mode: FULL },
  { shape: [3, 7], axis: 1, mode: { mode: 'small-ring', dropLowBits: 4, keepBits: 16 } },
  { shape: [1, 5, 2, 3], axis: 1, mode: { mode: 'small-ring', dropLowBits: 4, keepBits: 16 } },
  { shape: [4, 1], axis: 1, mode: FULL },
  { shape: [1000], axis: 0, mode: { mode: 'small-ring', dropLowBits: 0, keepBits: 24 } },
];

/**
 * The maximum over `axis` (removed from the shape), in a scope 'max': log2(n) levels of one batched sign
 * test each.
 */
export const max = protocol(async (p: Party, x: Shared, axis: number, mode: DreluMode = FULL): Promise<Shared> =>
  p.scope('max', async (q) => (await reduceTree(q, x, axis, mode, false)).value), {
  name: 'max',
  inputs: (o: TreeParams) => [{ shape: o.shape, domain: differenceDomain(o.mode) }],
  run: (p, [x], o) => p.scope('max', async (q) => (await reduceTree(q, x as Shared, o.axis, o.mode, false)).value),
  clear: ([x], o) => firstMaxClear(x!, o.axis, false),
  cost: (o) => treeCost(o.shape, o.axis, o.mode, false),
  tolerance: nearMax((v) => v),
  examples: TREE_EXAMPLES,
});

/**
 * The index of the (first) maximum over `axis`, and the maximum, both shared (the axis removed), in a
 * scope 'argmax'. Open the index to whoever may learn it; the values stay shared.
 */
export const argmax = protocol(async (p: Party, x: Shared, axis: number, mode: DreluMode = FULL): Promise<{ index: Shared; value: Shared }> =>
  p.scope('argmax', async (q) => {
    const r = await reduceTree(q, x, axis, mode, true);
    return { index: r.index!, value: r.value };
  }), {
  name: 'argmax',
  inputs: (o: TreeParams) => [{ shape: o.shape, domain: differenceDomain(o.mode) }],
  run: (p, [x], o) => p.scope('argmax', async (q) => (await reduceTree(q, x as Shared, o.axis, o.mode, true)).index!),
  clear: ([x], o) => firstMaxClear(x!, o.axis, true),
  cost: (o) => treeCost(o.shape, o.axis, o.mode, true),
  tolerance: nearMax((v, row) => row[Number(v)] ?? 2n ** 63n - 1n),
  examples: TREE_EXAMPLES,
});

/** Bits enough to compare indices in [0, n) exactly: a small ring with no dropped bits. */
const indexMode = (n: number): DreluMode => ({ mode: 'small-ring', dropLowBits: 0, keepBits: Math.min(32, Math.max(4, Math.ceil(Math.log2(n + 1)) + 2)) });

/** A value below every input of topk's domain (|x| < 2^59), subtracted from a chosen candidate. */
const REMOVED = 2n ** 61n;

/** One-hot [M, n] of shared indices [M] in [0, n): [i >= c] AND [c >= i] per class c. */
async function oneHot(p: Party, index: Shared, n: number): Promise<Shared> {
  const M = index.size;
  const rep = index.map((s) => RT.concat(Array(n).fill(s.reshape([M, 1])), 1), [M, n]);
  const diff = sub(p, rep, fromPublic(p, [M, n], RT.from(Array.from({ length: M * n }, (_, i) => i % n), [M, n])));
  const both = await drelu(p, concat([diff, neg(p, diff)], 0), indexMode(n));
  const ge0 = both.reshape([2 * M * n]);
  const half = (h: number) => ge0.map([M * n], (a) => a.subarray(h * M * n, (h + 1) * M * n), (t) => t.slice(0, h * M * n, (h + 1) * M * n));
  const [bLo, bHi] = [half(0), half(1)];
  return (await mulBit(p, bLo, bHi.toShared(p))).reshape([M, n]);
}

async function topkRun(p: Party, x: Shared, k: number, mode: DreluMode): Promise<Shared> {
  if (x.shape.length !== 2) throw new RangeError(`"x" expected shape [M, n], got [${x.shape.join(',')}]`);
  const [M, n] = x.shape as [number, number];
  if (!(Number.isInteger(k) && k >= 1 && k <= n)) throw new RangeError(`"k" expected an integer in [1, ${n}], got ${k}`);
  return p.scope('topk', async (q) => {
    let cur = x;
    const picks: Shared[] = [];
    for (let j = 0; j < k; j++) {
      const { index } = await q.scope(`pick${j}`, async (s) => {
        const r = await reduceTree(s, cur, 1, mode, true);
        if (j < k - 1) cur = sub(s, cur, mulScalar(s, await oneHot(s, r.index!, n), REMOVED));
        return { index: r.index! };
      });
      picks.push(index.reshape([M, 1]));
    }
    return concat(picks, 1);
  });
}

/** Declared cost of topk on [M, n] (k argmax trees, and k - 1 one-hot removals). */
export function topkCost(M: number, n: number, k: number, mode: DreluMode = FULL): Cost {
  const { k: kb, zBytes } = windowOf(indexMode(n));
  const removal = sequential(compareCost(2 * M * n, kb, zBytes), mulBitCost(M * n));
  return sequential(...Array.from({ length: k }, (_, j) => (j < k - 1 ? sequential(treeCost([M, n], 1, mode, true), removal) : treeCost([M, n], 1, mode, true))));
}

interface TopkParams {
  M: number;
  n: number;
  k: number;
}

/**
 * The indices of the k largest values of each row of [M, n], largest first (ties: the lower index first),
 * as shares [M, k], in a scope 'topk': k argmax trees in full mode, each winner removed by subtracting
 * 2^61 at its one-hot position (exact for |x| < 2^59).
 * @throws {RangeError} for a shape that is not [M, n] or k outside [1, n]
 */
export const topk = protocol((p: Party, x: Shared, k: number): Promise<Shared> => topkRun(p, x, k, FULL), {
  name: 'topk',
  inputs: (o: TopkParams) => [{ shape: [o.M, o.n], domain: [[-(2n ** 58n), 2n ** 58n]] }],
  run: (p, [x], o) => topkRun(p, x as Shared, o.k, FULL),
  clear([x], o) {
    const out: number[] = [];
    for (let m = 0; m < o.M; m++) {
      const row = Array.from(x!.data.subarray(m * o.n, (m + 1) * o.n)).map((v, i) => [v, i] as const);
      row.sort((a, b) => (a[0] === b[0] ? a[1] - b[1] : a[0] > b[0] ? -1 : 1));
      out.push(...row.slice(0, o.k).map(([, i]) => i));
    }
    return RingTensor.from(out, [o.M, o.k]);
  },
  cost: (o) => topkCost(o.M, o.n, o.k),
  examples: [{ M: 3, n: 10, k: 3 }, { M: 1, n: 5, k: 5 }, { M: 2, n: 7, k: 1 }],
});
