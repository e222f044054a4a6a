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
 * and g(g-1)/2 comparisons per group: with g = ceil(sqrt(n)), two levels (12 rounds) for n <= 1024
 * classes at about sqrt(n)/2 times the tree's comparisons; with g >= n, one level (6 rounds).
 *
 * Full mode only: in a truncated window a difference within 2^d of 0 may read either way, the b's need
 * not be an order, and a group could have no winner (a wrong answer, not a near one).
 * @module
 */
import { RingTensor, shapeSize } from '@si/ring';
import { add, concat, fromPublic, protocol, sequential, Shared, slice, sub, type Cost, type Party } from '@si/sharing';
import { columnsOf, repeat } from './_columns.ts';
import { compareCost, differenceDomain, drelu, dreluCost, FULL, signTest, windowOf, windowsOf, type DreluMode } from './drelu.ts';

/** [start, size] of each group of a level of n candidates in groups of up to g. */
function groupsOf(n: number, g: number): [number, number][] {
  const out: [number, number][] = [];
  for (let s = 0; s < n; s += g) out.push([s, Math.min(g, n - s)]);
  return out;
}

/** Exact windows for scores in [-(g - 1), 0]: no dropped bits, whole bytes (8 bits up to g = 128). */
const scoreMode = (g: number): DreluMode => ({ mode: 'small-ring', dropLowBits: 0, keepBits: g <= 128 ? 8 : g <= 32768 ? 16 : 32 });

/** The group size for n candidates that gives two levels (one when n <= 32). */
export const shallowGroup = (n: number): number => (n <= 32 ? n : Math.ceil(Math.sqrt(n)));

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

async function shallowRun(p: Party, x: Shared, axis: number, g: number): Promise<{ index: Shared; value: Shared }> {
  checkGroup(g);
  return p.scope('argmax-shallow', async (q) => {
    const { cols, outShape } = columnsOf(x, axis);
    const M = shapeSize(outShape);
    let vals = cols, idx = cols.map((_, t) => fromPublic(q, [M], t));
    for (let level = 0; vals.length > 1; level++) {
      const L = levelOf(vals.length, g);
      // 1. Every pair of every group: b_ij = [x_i - x_j >= 0], as arithmetic shares.
      const diff = concat(L.pairs.map(([i, j]) => sub(q, vals[i]!, vals[j]!)), 0);
      const b = (await q.scope(`level${level}-pairs`, (s) => drelu(s, diff, FULL))).toShared(q);
      const bit = (k: number) => slice(b, 0, k * M, (k + 1) * M);
      // 2. Scores minus (g - 1): sum_{j > i} b_ij + sum_{j < i} (1 - b_ji) - (size - 1).
      const score = vals.map((_, i) => fromPublic(q, [M], 0));
      L.pairs.forEach(([i, j], k) => {
        score[i] = add(q, score[i]!, bit(k));
        score[j] = sub(q, score[j]!, bit(k));
      });
      const member: number[] = [];
      for (const [s, size] of L.groups) if (size > 1) for (let i = 0; i < size; i++) member.push(s + i), (score[s + i] = add(q, score[s + i]!, fromPublic(q, [M], i - (size - 1))));
      // 3. e_i = [score >= 0] (one winner per group), times the value and the index in the same rounds.
      const scores = concat(member.map((i) => score[i]!), 0);
      const n2 = member.length * M;
      const { product } = await q.scope(`level${level}-pick`, (s) => signTest(s, windowsOf(s, scores, scoreMode(g)), [n2], {
        x: concat([...member.map((i) => vals[i]!), ...member.map((i) => idx[i]!)], 0),
        expand: { bytes: (u) => repeat(u, 2), ring: (t) => RingTensor.concat([t.reshape([n2]), t.reshape([n2])], 0) },
      }));
      const nextVals: Shared[] = [], nextIdx: Shared[] = [];
      let at = 0;
      for (const [s, size] of L.groups) {
        if (size === 1) {
          nextVals.push(vals[s]!), nextIdx.push(idx[s]!);
          continue;
        }
        let v = slice(product!, 0, at * M, (at + 1) * M), t = slice(product!, 0, n2 + at * M, n2 + (at + 1) * M);
        for (let i = 1; i < size; i++) {
          v = add(q, v, slice(product!, 0, (at + i) * M, (at + i + 1) * M));
          t = add(q, t, slice(product!, 0, n2 + (at + i) * M, n2 + (at + i + 1) * M));
        }
        nextVals.push(v), nextIdx.push(t);
        at += size;
      }
      vals = nextVals, idx = nextIdx;
    }
    return { index: idx[0]!.reshape(outShape), value: vals[0]!.reshape(outShape) };
  });
}

/** Declared cost of argmaxShallow over `axis` of `shape` with groups of up to g. */
export function shallowCost(shape: readonly number[], axis: number, g: number): Cost {
  checkGroup(g);
  const M = shapeSize(shape) / shape[axis]!;
  const { k, zBytes } = windowOf(scoreMode(g));
  const levels: Cost[] = [];
  for (let n = shape[axis]!; n > 1; ) {
    const L = levelOf(n, g);
    levels.push(dreluCost(L.pairs.length * M, FULL), compareCost(L.members * M, k, zBytes, 2 * L.members * M));
    n = L.groups.length;
  }
  return sequential(...levels);
}

/** The first maximum over `axis`, in the clear: the twin. */
function firstMax(x: RingTensor, axis: number): RingTensor {
  const { cols, outShape } = columnsOf(new Shared(x.shape, x), axis);
  const out = new BigInt64Array(shapeSize(outShape));
  for (let i = 0; i < out.length; i++) {
    let best = 0;
    for (let t = 1; t < cols.length; t++) if (cols[t]!.share!.data[i]! > cols[best]!.share!.data[i]!) best = t;
    out[i] = BigInt(best);
  }
  return new RingTensor(out, outShape);
}

interface ShallowParams {
  shape: readonly number[];
  axis: number;
  group: number;
}

/**
 * The index of the (first) maximum over `axis` and the maximum, both shared (the axis removed), in a
 * scope 'argmax-shallow': levels of round-robin groups of up to `group` candidates, 6 rounds each, full
 * mode (exact for differences below 2^62). `shallowGroup(n)` gives two levels.
 * @throws {RangeError} for a group below 2 or a bad axis
 */
export const argmaxShallow = protocol(shallowRun, {
  name: 'argmax-shallow',
  inputs: (o: ShallowParams) => [{ shape: o.shape, domain: differenceDomain(FULL) }],
  run: async (p, [x], o) => (await shallowRun(p, x as Shared, o.axis, o.group)).index,
  clear: ([x], o) => firstMax(x!, o.axis),
  cost: (o) => shallowCost(o.shape, o.axis, o.group),
  examples: [
    { shape: [2, 10], axis: 1, group: 10 },
    { shape: [3, 100], axis: 1, group: 10 },
    { shape: [1, 7, 2], axis: 1, group: 3 },
    { shape: [4, 1], axis: 1, group: 4 },
    { shape: [2, 5], axis: 1, group: 2 },
    { shape: [1, 1000], axis: 1, group: 32 },
  ],
});
