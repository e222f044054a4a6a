/**
 * Max pooling on shares (for models that keep it): max(a, b) = b + ReLU(a - b), reduced as a tree over
 * the window (a 3x3 window takes 8 ReLUs in 4 levels of 3 rounds), each level one batched ReLU.
 * Padding never wins: a padded tap repeats an in-window value instead of -infinity.
 * @module
 */
import { aint, RingTensor, words } from '@si/ring';
import { add, HELPER, Shared, sequential, sub, type Cost, type Party } from '@si/sharing';
import { relu, reluCost, type DreluMode, FULL } from './drelu.ts';

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

function gather(x: RingTensor, idx: Int32Array, from: number, count: number, shape: readonly number[]): RingTensor {
  const out = new BigInt64Array(count);
  const o = words(out), s = words(x.data);
  for (let i = 0; i < count; i++) {
    const at = idx[from + i]!;
    o[2 * i] = s[2 * at]!;
    o[2 * i + 1] = s[2 * at + 1]!;
  }
  return new RingTensor(out, shape);
}

/** Sizes of the batched ReLU at each tree level for `taps` candidates per output. */
function levels(taps: number): number[] {
  const out: number[] = [];
  for (let c = taps; c > 1; c = Math.ceil(c / 2)) out.push(Math.floor(c / 2));
  return out;
}

/** Max over each pooling window of shared x [N, C, H, W]. */
export async function maxpool(p: Party, x: Shared, opts: PoolOptions, mode: DreluMode = FULL): Promise<Shared> {
  const { outShape, idx, taps } = plan(x.shape, opts);
  const outs = outShape.reduce((a, b) => a * b, 1);
  // cands[t]: the t-th candidate of every window (a Shared of outShape).
  let cands: Shared[] = [];
  for (let t = 0; t < taps; t++)
    cands.push(new Shared(outShape, p.id === HELPER ? null : gather(x.share!, idx, t * outs, outs, outShape)));
  while (cands.length > 1) {
    const pairs = Math.floor(cands.length / 2);
    // One batched ReLU over all pairs of this level: max(a, b) = b + relu(a - b).
    const diffs = [...Array(pairs).keys()].map((i) => sub(p, cands[2 * i]!, cands[2 * i + 1]!));
    const batched = new Shared([pairs * outs], p.id === HELPER ? null : concat(diffs.map((d) => d.share!)));
    const r = await relu(p, batched, mode);
    const next: Shared[] = [];
    for (let i = 0; i < pairs; i++) {
      const part = new Shared(outShape, r.share ? new RingTensor(r.share.data.slice(i * outs, (i + 1) * outs), outShape) : null);
      next.push(add(p, cands[2 * i + 1]!, part));
    }
    if (cands.length % 2 === 1) next.push(cands[cands.length - 1]!);
    cands = next;
  }
  return cands[0]!;
}

function concat(ts: RingTensor[]): RingTensor {
  const n = ts.reduce((s, t) => s + t.size, 0);
  const out = new BigInt64Array(n);
  let o = 0;
  for (const t of ts) {
    out.set(t.data, o);
    o += t.size;
  }
  return new RingTensor(out, [n]);
}

/** Twin (exact for full mode): the signed maximum of each window. */
export function maxpoolClear(x: RingTensor, opts: PoolOptions): RingTensor {
  const { outShape, idx, taps } = plan(x.shape, opts);
  const outs = outShape.reduce((a, b) => a * b, 1);
  const out = new BigInt64Array(outs);
  for (let o = 0; o < outs; o++) {
    let best = x.data[idx[o]!]!;
    for (let t = 1; t < taps; t++) {
      const v = x.data[idx[t * outs + o]!]!;
      if (v > best) best = v;
    }
    out[o] = best;
  }
  return new RingTensor(out, outShape);
}

/** Cost: one batched ReLU per tree level. */
export function maxpoolCost(xShape: readonly number[], opts: PoolOptions, mode: DreluMode = FULL): Cost {
  const { outShape, taps } = plan(xShape, opts);
  const outs = outShape.reduce((a, b) => a * b, 1);
  return sequential(...levels(taps).map((pairs) => reluCost(pairs * outs, mode)));
}
