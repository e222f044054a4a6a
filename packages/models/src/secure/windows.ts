/**
 * Sign windows on real activations. In a truncated comparison mode (small-ring or paper, D dropped low
 * bits, K compared bits) a sign test is exact only inside exactDomain(mode): values in
 * [-2^(D+K-1), 2^(D+K-1)) at f fractional bits, and not in the sliver [-2^D, 0) where a tiny negative may
 * pass. Outside, the sign is whatever the K-bit window wraps to. This module runs the fixed-point twin
 * on calibration images and counts, for every comparing layer, the values it compares that fall outside
 * the exact window, and predicts the sign-error rate by simulating each comparison on a random split of
 * its input into two shares (simulateDrelu, the secure arithmetic in the clear).
 *
 * What each layer compares: a ReLU layer its pixels; a patch-ReLU layer the sum of each patch, in its
 * group's widened window (@si/patch-relu's `widened`); a clip (ReLU6) layer also y - hi per pixel of
 * each channel not zeroed; a max pool the differences a - b of the candidates at every level of its
 * tree, which span twice the range of the activations (so a max pool needs activations within half the
 * window: differenceDomain).
 * @module
 */
import { patchSum, RingTensor, shapeSize, secureRandom } from '@si/ring';
import { exactDomain, FULL, simulateDrelu, windowOf, type DreluMode } from '@si/relu-protocols';
import { kindOf, patchReluFixed, widened, type PatchSize } from '@si/patch-relu';
import type { FixedModel } from './compile.ts';
import { fixedForward, type Comparison, type RunOptions } from './executor.ts';

export interface WindowLayer {
  /** The node (and the patch-spec layer for ReLU-like nodes). */
  node: string;
  layer?: string;
  kind: 'relu' | 'patch' | 'clip' | 'maxpool';
  /** Values compared, over the images. */
  compared: number;
  /** Of those, outside the mode's exact window (beyond its range, or in the sliver just below 0). */
  outOfWindow: number;
  /** Of those, beyond the window's range: the sign wraps (a large error); the rest are within 2^D below 0. */
  beyondRange: number;
  /** Of those, with the wrong sign in a simulated secure run (one random share split each). */
  signErrors: number;
  /**
   * The sign errors on values beyond the range (the window wrapped): the large ones. The rest are tiny
   * negatives (within 2^D of 0) taken as positive, an error below the window's resolution per value.
   */
  wrapErrors: number;
}

export interface WindowReport {
  mode: DreluMode;
  images: number;
  layers: WindowLayer[];
  /** The largest fraction of out-of-window values over the layers. */
  maxOutOfWindow: number;
  /** The largest fraction of values beyond the window's range over the layers. */
  maxBeyondRange: number;
  /** The largest predicted sign-error rate over the layers. */
  maxSignErrorRate: number;
  /** The largest rate of sign errors beyond the range (wraps) over the layers. */
  maxWrapErrorRate: number;
}

const inDomain = (v: bigint, d: readonly (readonly [bigint, bigint])[]) => d.some(([lo, hi]) => v >= lo && v <= hi);

/** Counts one batch of compared values in a mode: outside the exact window, and wrong in a simulated split. */
function count(values: RingTensor, mode: DreluMode): { outOfWindow: number; beyondRange: number; signErrors: number; wrapErrors: number } {
  if (values.size === 0) return { outOfWindow: 0, beyondRange: 0, signErrors: 0, wrapErrors: 0 };
  const dom = exactDomain(mode);
  const range: [bigint, bigint] = [dom[0]![0], dom[dom.length - 1]![1]];
  let out = 0, beyond = 0, wrong = 0, wraps = 0;
  const x0 = RingTensor.random(values.shape, (b) => void secureRandom(b));
  const sim = simulateDrelu(x0, values.sub(x0), mode);
  for (let i = 0; i < values.size; i++) {
    const v = values.data[i]!;
    const far = v < range[0] || v > range[1];
    if (!inDomain(v, dom)) out++;
    if (far) beyond++;
    if (sim[i] !== (v >= 0n ? 1 : 0)) {
      wrong++;
      if (far) wraps++;
    }
  }
  return { outOfWindow: out, beyondRange: beyond, signErrors: wrong, wrapErrors: wraps };
}

/** Channel planes [N, |cs|, H, W] of x [N, C, H, W]. */
function channels(x: RingTensor, cs: readonly number[]): RingTensor {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const hw = H * W, out = new BigInt64Array(N * cs.length * hw);
  for (let n = 0; n < N; n++) cs.forEach((c, k) => out.set(x.data.subarray((n * C + c) * hw, (n * C + c + 1) * hw), (n * cs.length + k) * hw));
  return new RingTensor(out, [N, cs.length, H, W]);
}

/** The values a (patch) ReLU layer compares, by group, with each group's window. */
function lowerComparisons(x: RingTensor, sizes: readonly PatchSize[], mode: DreluMode): { values: RingTensor; mode: DreluMode; patched: boolean }[] {
  const [, , H, W] = x.shape as [number, number, number, number];
  const groups = new Map<string, { ph: number; pw: number; cs: number[] }>();
  sizes.forEach((s, c) => {
    const k = kindOf(s);
    if (k !== 'relu' && k !== 'patch') return;
    const ph = Math.min(s[0], H), pw = Math.min(s[1], W), key = `${ph}x${pw}`;
    if (!groups.has(key)) groups.set(key, { ph, pw, cs: [] });
    groups.get(key)!.cs.push(c);
  });
  const all = [...groups.values()];
  return all.map((g) => ({
    values: g.ph * g.pw === 1 ? channels(x, g.cs) : patchSum(channels(x, g.cs), g.ph, g.pw),
    mode: widened(mode, g.ph, g.pw, all),
    patched: g.ph * g.pw > 1,
  }));
}

/** The differences a max pool's tree compares, level by level (pairs (0, 1), (2, 3), ... of the taps). */
function poolDifferences(x: RingTensor, pool: { kernel: number; stride: number; padding: number }): RingTensor[] {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const { kernel: K, stride: S, padding: P } = pool;
  const OH = Math.floor((H + 2 * P - K) / S) + 1, OW = Math.floor((W + 2 * P - K) / S) + 1;
  const outs = N * C * OH * OW;
  // Taps of every window; a padded tap repeats an in-window value (as the secure max pool does).
  let cands: BigInt64Array[] = [];
  for (let t = 0; t < K * K; t++) cands.push(new BigInt64Array(outs));
  for (let nc = 0; nc < N * C; nc++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++) {
        const o = (nc * OH + oh) * OW + ow;
        let filler: bigint | undefined;
        const taps: (bigint | undefined)[] = [];
        for (let i = 0; i < K; i++)
          for (let j = 0; j < K; j++) {
            const h = oh * S - P + i, w = ow * S - P + j;
            const v = h >= 0 && h < H && w >= 0 && w < W ? x.data[(nc * H + h) * W + w]! : undefined;
            if (v !== undefined) filler ??= v;
            taps.push(v);
          }
        taps.forEach((v, t) => (cands[t]![o] = v ?? filler!));
      }
  const diffs: RingTensor[] = [];
  while (cands.length > 1) {
    const next: BigInt64Array[] = [];
    const pairs = Math.floor(cands.length / 2);
    const d = new BigInt64Array(pairs * outs);
    for (let p = 0; p < pairs; p++) {
      const a = cands[2 * p]!, b = cands[2 * p + 1]!, m = new BigInt64Array(outs);
      for (let o = 0; o < outs; o++) {
        d[p * outs + o] = BigInt.asIntN(64, a[o]! - b[o]!);
        m[o] = a[o]! >= b[o]! ? a[o]! : b[o]!;
      }
      next.push(m);
    }
    if (cands.length % 2) next.push(cands[cands.length - 1]!);
    diffs.push(new RingTensor(d, [d.length]));
    cands = next;
  }
  return diffs;
}

/** What one comparing layer compares, as (values, mode) batches, and the kind to report. */
function comparisons(c: Comparison, mode: DreluMode): { kind: WindowLayer['kind']; batches: { values: RingTensor; mode: DreluMode }[] } {
  if (c.kind === 'maxpool') return { kind: 'maxpool', batches: poolDifferences(c.input, c.pool!).map((values) => ({ values, mode })) };
  const sizes = c.sizes!;
  const lower = lowerComparisons(c.input, sizes, mode);
  const patched = lower.some((g) => g.patched);
  if (c.kind === 'relu') return { kind: patched ? 'patch' : 'relu', batches: lower };
  // A clip: the upper bound per pixel of the channels not zeroed, on x - hi (plain layers) or y - hi.
  const keep = sizes.flatMap((s, k) => (kindOf(s) === 'zero' ? [] : [k]));
  const base = sizes.every((s) => kindOf(s) === 'relu') ? c.input : patchReluFixed(c.input, sizes);
  return { kind: 'clip', batches: [...lower, { values: channels(base, keep).addScalar(-c.hi!), mode }] };
}

/**
 * The window report of a model on images x [N, C, H, W] (at the model's f bits), in `mode`, with the
 * run's patch spec. Images go through in batches of `batch`.
 */
export async function windowReport(m: FixedModel, x: RingTensor, mode: DreluMode, opts: Pick<RunOptions, 'spec'> & { batch?: number; onBatch?(done: number, total: number): void } = {}): Promise<WindowReport> {
  const rows = new Map<string, WindowLayer>();
  const N = x.shape[0]!, per = shapeSize(x.shape.slice(1)), B = opts.batch ?? 8;
  for (let s = 0; s < N; s += B) {
    const n = Math.min(B, N - s);
    const xb = new RingTensor(x.data.subarray(s * per, (s + n) * per), [n, ...x.shape.slice(1)]);
    await fixedForward(m, xb, {
      ...(opts.spec ? { spec: opts.spec } : {}),
      onCompare(c) {
        const { kind, batches } = comparisons(c, mode);
        const layer = (c.node as { layer?: string }).layer;
        const row = rows.get(c.node.name) ?? { node: c.node.name, ...(layer ? { layer } : {}), kind, compared: 0, outOfWindow: 0, beyondRange: 0, signErrors: 0, wrapErrors: 0 };
        for (const b of batches) {
          const r = count(b.values, mode.mode === 'full' ? FULL : b.mode);
          row.compared += b.values.size;
          row.outOfWindow += r.outOfWindow;
          row.beyondRange += r.beyondRange;
          row.signErrors += r.signErrors;
          row.wrapErrors += r.wrapErrors;
        }
        rows.set(c.node.name, row);
      },
    });
    opts.onBatch?.(s + n, N);
  }
  const layers = [...rows.values()];
  const frac = (a: number, b: number) => (b ? a / b : 0);
  return {
    mode, images: N, layers,
    maxOutOfWindow: Math.max(0, ...layers.map((l) => frac(l.outOfWindow, l.compared))),
    maxBeyondRange: Math.max(0, ...layers.map((l) => frac(l.beyondRange, l.compared))),
    maxSignErrorRate: Math.max(0, ...layers.map((l) => frac(l.signErrors, l.compared))),
    maxWrapErrorRate: Math.max(0, ...layers.map((l) => frac(l.wrapErrors, l.compared))),
  };
}

/**
 * The window of a plain ReLU in a mode, in real units at f fractional bits: signs are exact on
 * [-limit, -resolution) and [0, limit - resolution), resolution = 2^(D-f) (exactDomain in real units).
 */
export function windowLimits(mode: DreluMode, f: number): { limit: number; resolution: number } | null {
  if (mode.mode === 'full') return null;
  const { k, d } = windowOf(mode);
  return { limit: 2 ** (d + k - 1 - f), resolution: 2 ** (d - f) };
}


