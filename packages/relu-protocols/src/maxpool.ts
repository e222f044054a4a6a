/**
 * Max pooling on shares (for models that keep it): max(a, b) = b + ReLU(a - b), reduced as a tree over
 * the window (a 3x3 window takes 8 ReLUs in 4 levels of 3 rounds), each level one batched ReLU.
 * Padding never wins: a padded tap repeats an in-window value instead of -infinity.
 * @module
 */
import { aint, RingTensor, shapeSize } from '@si/ring';
import { add, concat, gather, protocol, sequential, slice, sub, type Cost, type Party, type Shared } from '@si/sharing';
import { differenceDomain, FULL, relu, reluCost, windowOf, type DreluMode } from './drelu.ts';

export interface PoolOptions {
  kernel: number;
  stride?: number;
  padding?: number;
}

interface Plan {
  outShape: [number, number, number, number];
  /** For each tap t, the flat input index feeding output o: idx[t * outs + o]. */
  idx: Int32Array;
  taps: number;
}

function plan(shape: readonly number[], o: PoolOptions): Plan {
  if (shape.length !== 4) throw new RangeError(`"x" expected shape [N,C,H,W], got [${shape.join(',')}]`);
  const [N, C, H, W] = shape as [number, number, number, number];
  const K = aint(o.kernel, 'kernel', 1), S = aint(o.stride ?? K, 'stride', 1), P = aint(o.padding ?? 0, 'padding', 0, K - 1);
  const OH = Math.floor((H + 2 * P - K) / S) + 1, OW = Math.floor((W + 2 * P - K) / S) + 1;
  if (OH < 1 || OW < 1) throw new RangeError(`"x" ${H}x${W} is smaller than the ${K}x${K} pooling window`);
  const outs = N * C * OH * OW, taps = K * K;
  const idx = new Int32Array(taps * outs);
  for (let nc = 0; nc < N * C; nc++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++) {
        const o = (nc * OH + oh) * OW + ow;
        let filler = -1;
        const list: number[] = [];
        for (let i = 0; i < K; i++)
          for (let j = 0; j < K; j++) {
            const h = oh * S - P + i, w = ow * S - P + j;
            const inside = h >= 0 && h < H && w >= 0 && w < W;
            const at = inside ? (nc * H + h) * W + w : -1;
            if (inside && filler < 0) filler = at;
            list.push(at);
          }
        list.forEach((at, t) => (idx[t * outs + o] = at < 0 ? filler : at));
      }
  return { outShape: [N, C, OH, OW], idx, taps };
}


/** Sizes of the batched ReLU at each tree level for `taps` candidates per output. */
function levels(taps: number): number[] {
  const out: number[] = [];
  for (let c = taps; c > 1; c = Math.ceil(c / 2)) out.push(Math.floor(c / 2));
  return out;
}

async function maxpoolRun(p: Party, x: Shared, opts: PoolOptions, mode: DreluMode = FULL): Promise<Shared> {
  const { outShape, idx, taps } = plan(x.shape, opts);
  const outs = shapeSize(outShape);
  return p.scope('maxpool', async (q) => {
    // cands[t]: the t-th candidate of every window (a Shared of outShape).
    let cands: Shared[] = [];
    for (let t = 0; t < taps; t++) cands.push(gather(x, idx.subarray(t * outs, (t + 1) * outs), outShape));
    while (cands.length > 1) {
      const pairs = Math.floor(cands.length / 2);
      // One batched ReLU over all pairs of this level: max(a, b) = b + relu(a - b).
      const diffs = [...Array(pairs).keys()].map((i) => sub(q, cands[2 * i]!, cands[2 * i + 1]!).reshape([outs]));
      const r = await relu(q, concat(diffs, 0), mode);
      const next = [...Array(pairs).keys()].map((i) => add(q, cands[2 * i + 1]!, slice(r, 0, i * outs, (i + 1) * outs).reshape(outShape)));
      if (cands.length % 2 === 1) next.push(cands[cands.length - 1]!);
      cands = next;
    }
    return cands[0]!;
  });
}

/** The signed maximum of each window over its in-bounds taps, in the clear (BigInt on values). */
function maxpoolClear(x: RingTensor, o: PoolOptions): RingTensor {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const K = o.kernel, S = o.stride ?? K, P = o.padding ?? 0;
  const OH = Math.floor((H + 2 * P - K) / S) + 1, OW = Math.floor((W + 2 * P - K) / S) + 1;
  const out: bigint[] = [];
  for (let nc = 0; nc < N * C; nc++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++) {
        let best: bigint | null = null;
        for (let h = oh * S - P; h < oh * S - P + K; h++)
          for (let w = ow * S - P; w < ow * S - P + K; w++) {
            if (h < 0 || h >= H || w < 0 || w >= W) continue;
            const v = x.data[(nc * H + h) * W + w]!;
            if (best === null || v > best) best = v;
          }
        out.push(best!);
      }
  return RingTensor.from(out, [N, C, OH, OW]);
}

/** Cost: one batched ReLU per tree level. */
export function maxpoolCost(xShape: readonly number[], opts: PoolOptions, mode: DreluMode = FULL): Cost {
  const { outShape, taps } = plan(xShape, opts);
  const outs = shapeSize(outShape);
  return sequential(...levels(taps).map((pairs) => reluCost(pairs * outs, mode)));
}

interface PoolParams {
  shape: readonly number[];
  opts: PoolOptions;
  mode: DreluMode;
}

/**
 * Max over each pooling window of shared x [N, C, H, W], in a scope 'maxpool'. It compares differences
 * of window values, so the values must stay within half the mode's window each way (a difference spans
 * twice the range of the values); in truncated modes a difference in [-2^d, 0) may keep the smaller value,
 * so the result is at most levels * 2^d below the maximum.
 */
export const maxpool = protocol(maxpoolRun, {
  name: 'maxpool',
  inputs: (o: PoolParams) => [{ shape: o.shape, domain: differenceDomain(o.mode) }],
  run: (p, [x], o) => maxpoolRun(p, x as Shared, o.opts, o.mode),
  clear: ([x], o) => maxpoolClear(x!, o.opts),
  cost: (o) => maxpoolCost(o.shape, o.opts, o.mode),
  tolerance: {
    describe: 'exact in full mode; in truncated modes at most levels * 2^d below the window maximum',
    check(got, want, _x, o) {
      const { k, d } = windowOf(o.mode);
      const slack = k === 64 ? 0n : BigInt(levels(plan(o.shape, o.opts).taps).length) * 2n ** BigInt(d);
      for (let i = 0; i < got.size; i++) if (got.data[i]! > want.data[i]! || got.data[i]! < want.data[i]! - slack) return `element ${i}: ${got.data[i]}, maximum ${want.data[i]}`;
      return null;
    },
  },
  examples: [
    { shape: [1, 2, 5, 5], opts: { kernel: 3, stride: 2, padding: 1 }, mode: FULL },
    { shape: [2, 3, 4, 4], opts: { kernel: 2 }, mode: { mode: 'small-ring', dropLowBits: 4, keepBits: 16 } },
  ],
});
