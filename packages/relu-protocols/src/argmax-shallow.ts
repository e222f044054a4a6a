/**
 * argmax in few rounds: a shallow tree whose levels are round-robin groups instead of pairs.
 *
 * The binary tree (argmax in compare.ts) needs ceil(log2 n) levels of one sign test each: 3 rounds per
 * level, 21 for 100 classes, 30 for 1000. Here a level splits the candidates into groups of up to g and
 * in each group compares every pair at once (one sign test on all the differences, 3 rounds):
 *   b_ij = [x_i - x_j >= 0] for i < j in the group, and b_ji = 1 - b_ij,
 * so the earlier candidate wins a tie and the b's are a total order (full mode: every difference's sign
 * is exact). Candidate i's score s_i = sum_{j != i} b_ij is local on arithmetic shares of the bits; the
 * winner is the one candidate with s_i = g - 1, and a second sign test gives e_i = [s_i - (g - 1) >= 0]
 * on small exact windows (d = 0), with the products e_i * x_i and e_i * index_i riding along in its rounds
 * (signTest's product). The group's maximum and its index are the sums over i. A level costs 6 rounds
 * and g(g-1)/2 comparisons per group, about g/2 per candidate: with g = 10 (shallowGroup), 12 rounds for
 * 100 classes and 18 for 1000 at about 5 times the tree's comparisons; with g >= n, one level.
 *
 * Full mode only: in a truncated window a difference within 2^d of 0 may read either way, the b's need
 * not be an order, and a group could have no winner (a wrong answer, not a near one).
 * @module
 */
import { RingTensor, shapeSize } from '@si/ring';
import { concat, fromPublic, gather, HELPER, protocol, sequential, SERVER, Shared, sub, type Cost, type Party } from '@si/sharing';
import { columnsOf, firstMaxClear, repeat } from './_columns.ts';
import { compareCost, differenceDomain, drelu, dreluCost, FULL, signTest, windowOf, windowsOf, type DreluMode } from './drelu.ts';

/** [start, size] of each group of a level of n candidates in groups of up to g. */
function groupsOf(n: number, g: number): [number, number][] {
  const out: [number, number][] = [];
  for (let s = 0; s < n; s += g) out.push([s, Math.min(g, n - s)]);
  return out;
}

/**
 * Exact windows for scores in [-(g - 1), 0]: no dropped bits, whole bytes (8 bits up to g = 128); with the
 * two-hop test when the pairs use it (then at most 31 bits).
 */
const scoreMode = (g: number, hops: 2 | 3 = 3): DreluMode => ({ mode: 'small-ring', dropLowBits: 0, keepBits: g <= 128 ? 8 : g <= 32768 ? 16 : hops === 2 ? 31 : 32, ...(hops === 2 ? { hops } : {}) });

/**
 * The comparison of the pairs: full mode (exact for differences below 2^62), or the two-hop test on a
 * window with no dropped bits (exact for differences below 2^(k-1), 2^30 at k = 31: two hops fewer per
 * level). A window that drops bits could misorder a near tie and leave a group without a winner.
 * @throws {RangeError} for a truncated window that drops bits, or a three-hop small window
 */
export function pairModeOf(mode: DreluMode = FULL): DreluMode {
  if (mode.mode === 'full') return mode;
  if (windowOf(mode).hops !== 2 || mode.dropLowBits !== 0) throw new RangeError(`argmaxShallow compares pairs in full mode or with the two-hop test on exact windows (dropLowBits 0), got ${JSON.stringify(mode)}`);
  return mode;
}

/**
 * The group size for n candidates: one level up to 16, else groups of 10 (levels: ceil(log10 n), e.g. two
 * for 100 classes and three for 1000, at about 5 times the tree's comparisons). Larger groups save more
 * rounds (32 gives two levels for 1000) but their comparisons grow as g/2 per candidate: 3 MB per image
 * and 3-4 times the tree's time at 1000 classes, where groups of 10 cost 0.85 MB and about the tree's time.
 */
export const shallowGroup = (n: number): number => (n <= 16 ? n : 10);

interface Level {
  groups: [number, number][];
  /** Pairs compared: i < j within a group, by candidate position. */
  pairs: [number, number][];
  /** Candidates of groups of two or more, in order. */
  members: number;
}

function levelOf(n: number, g: number): Level {
  const groups = groupsOf(n, g);
  const pairs: [number, number][] = [];
  for (const [s, size] of groups) for (let i = 0; i < size; i++) for (let j = i + 1; j < size; j++) pairs.push([s + i, s + j]);
  return { groups, pairs, members: groups.reduce((m, [, size]) => m + (size > 1 ? size : 0), 0) };
}

function checkGroup(g: number): void {
  if (!(Number.isInteger(g) && g >= 2)) throw new RangeError(`"group" expected an integer >= 2, got ${g}`);
}

/** Flat indices of rows `rows` (each M long) of a [n, M] tensor, in order. */
function rowIndex(rows: readonly number[], M: number): Int32Array {
  const out = new Int32Array(rows.length * M);
  rows.forEach((r, k) => {
    for (let m = 0; m < M; m++) out[k * M + m] = r * M + m;
  });
  return out;
}

/** Candidates [n, M] (row t: candidate t of every one of the M reductions) of x along `axis`. */
function candidates(x: Shared, axis: number): { rows: Shared; n: number; M: number; outShape: number[] } {
  const { cols, outShape } = columnsOf(x, axis);
  const M = shapeSize(outShape);
  return { rows: concat(cols, 0).reshape([cols.length, M]), n: cols.length, M, outShape };
}

async function shallowRun(p: Party, x: Shared, axis: number, g: number, pairs: DreluMode = FULL): Promise<{ index: Shared; value: Shared }> {
  checkGroup(g);
  const pairMode = pairModeOf(pairs), hops = windowOf(pairMode).hops;
  return p.scope('argmax-shallow', async (q) => {
    const { rows, n, M, outShape } = candidates(x, axis);
    const helper = q.id === HELPER;
    let vals = rows;
    let idx = fromPublic(q, [n, M], RingTensor.from(Array.from({ length: n * M }, (_, i) => Math.floor(i / M)), [n, M]));
    for (let level = 0; vals.shape[0]! > 1; level++) {
      const L = levelOf(vals.shape[0]!, g);
      // 1. Every pair of every group: b_ij = [x_i - x_j >= 0], as arithmetic shares.
      const diff = sub(q, gather(vals, rowIndex(L.pairs.map(([i]) => i), M)), gather(vals, rowIndex(L.pairs.map(([, j]) => j), M)));
      const b = (await q.scope(`level${level}-pairs`, (s) => drelu(s, diff, pairMode))).toShared(q);
      // 2. Scores minus (g - 1): sum_{j > i} b_ij + sum_{j < i} (1 - b_ji) - (size - 1); the constant at the server.
      const member: number[] = [];
      for (const [s, size] of L.groups) if (size > 1) for (let i = 0; i < size; i++) member.push(s + i);
      let scores = new Shared([member.length * M], null);
      if (!helper) {
        const score = new BigInt64Array(vals.shape[0]! * M), bd = b.share!.data;
        L.pairs.forEach(([i, j], k) => {
          for (let m = 0; m < M; m++) (score[i * M + m]! += bd[k * M + m]!), (score[j * M + m]! -= bd[k * M + m]!);
        });
        if (q.id === SERVER) for (const [s, size] of L.groups) for (let i = 0; i < size; i++) for (let m = 0; m < M; m++) score[(s + i) * M + m]! += BigInt(i - (size - 1));
        scores = gather(new Shared([score.length], new RingTensor(score, [score.length])), rowIndex(member, M));
      }
      // 3. e_i = [score >= 0] (one winner per group), times the value and the index in the same rounds.
      const n2 = member.length * M, at = rowIndex(member, M);
      const { product } = await q.scope(`level${level}-pick`, (s) => signTest(s, windowsOf(s, scores, scoreMode(g, hops)), [n2], {
        x: concat([gather(vals, at), gather(idx, at)], 0),
        expand: { bytes: (u) => repeat(u, 2), ring: (t) => RingTensor.concat([t.reshape([n2]), t.reshape([n2])], 0) },
      }));
      // 4. Each group's winner: the sum of its products (a lone candidate passes).
      ({ vals, idx } = winners(q, L, vals, idx, product!, M));
    }
    return { index: idx.reshape(outShape), value: vals.reshape(outShape) };
  });
}

/** The next level's candidates [groups, M]: per group the sum of its members' products, or the lone candidate. */
function winners(p: Party, L: Level, vals: Shared, idx: Shared, product: Shared, M: number): { vals: Shared; idx: Shared } {
  const G = L.groups.length;
  if (p.id === HELPER) return { vals: new Shared([G, M], null), idx: new Shared([G, M], null) };
  const v = new BigInt64Array(G * M), t = new BigInt64Array(G * M);
  const pd = product.share!.data, vd = vals.share!.data, td = idx.share!.data, n2 = L.members * M;
  let at = 0;
  L.groups.forEach(([s, size], gi) => {
    for (let m = 0; m < M; m++) {
      if (size === 1) {
        v[gi * M + m] = vd[s * M + m]!, t[gi * M + m] = td[s * M + m]!;
        continue;
      }
      let a = 0n, c = 0n;
      for (let i = 0; i < size; i++) (a += pd[(at + i) * M + m]!), (c += pd[n2 + (at + i) * M + m]!);
      v[gi * M + m] = a, t[gi * M + m] = c;
    }
    if (size > 1) at += size;
  });
  return { vals: new Shared([G, M], new RingTensor(v, [G, M])), idx: new Shared([G, M], new RingTensor(t, [G, M])) };
}

/** Declared cost of argmaxShallow over `axis` of `shape` with groups of up to g (pairs compared in `pairs`, pairModeOf). */
export function shallowCost(shape: readonly number[], axis: number, g: number, pairs: DreluMode = FULL): Cost {
  checkGroup(g);
  const M = shapeSize(shape) / shape[axis]!;
  const pairMode = pairModeOf(pairs), hops = windowOf(pairMode).hops;
  const { k, zBytes } = windowOf(scoreMode(g, hops));
  const levels: Cost[] = [];
  for (let n = shape[axis]!; n > 1; ) {
    const L = levelOf(n, g);
    levels.push(dreluCost(L.pairs.length * M, pairMode), compareCost(L.members * M, k, zBytes, 2 * L.members * M, hops));
    n = L.groups.length;
  }
  return sequential(...levels);
}

interface ShallowParams {
  shape: readonly number[];
  axis: number;
  group: number;
  pairs?: DreluMode;
}

/** The two-hop pairs window: 31 bits, no dropped bits (differences below 2^30). */
export const TWO_HOP_PAIRS: DreluMode = { mode: 'small-ring', dropLowBits: 0, keepBits: 31, hops: 2 };

/**
 * The index of the (first) maximum over `axis` and the maximum, both shared (the axis removed), in a
 * scope 'argmax-shallow': levels of round-robin groups of up to `group` candidates, 6 rounds each in full
 * mode (exact for differences below 2^62), 4 with `pairs` = TWO_HOP_PAIRS (exact for differences below
 * 2^30). `shallowGroup(n)` is the default group size.
 * @throws {RangeError} for a group below 2, a bad axis or a pairs mode pairModeOf refuses
 */
export const argmaxShallow = protocol(shallowRun, {
  name: 'argmax-shallow',
  inputs: (o: ShallowParams) => [{ shape: o.shape, domain: differenceDomain(o.pairs ?? FULL) }],
  run: async (p, [x], o) => (await shallowRun(p, x as Shared, o.axis, o.group, o.pairs)).index,
  clear: ([x], o) => firstMaxClear(x!, o.axis, true),
  cost: (o) => shallowCost(o.shape, o.axis, o.group, o.pairs),
  examples: [
    { shape: [2, 10], axis: 1, group: 10 },
    { shape: [3, 100], axis: 1, group: 10 },
    { shape: [1, 7, 2], axis: 1, group: 3 },
    { shape: [4, 1], axis: 1, group: 4 },
    { shape: [2, 5], axis: 1, group: 2 },
    { shape: [1, 1000], axis: 1, group: 32 },
    { shape: [3, 100], axis: 1, group: 10, pairs: TWO_HOP_PAIRS },
    { shape: [2, 5], axis: 1, group: 2, pairs: TWO_HOP_PAIRS },
  ],
});
