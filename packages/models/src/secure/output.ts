/**
 * What the client learns from a secure run. The network's output stays shared; one of three reveal
 * modes opens part of it to the client, and nothing to the server or the helper:
 *
 * - `label` (the default): the index of the largest output per image (per pixel for a segmentation
 *   network, output [N, classes, H, W]), from a secure argmax in full mode: for a classifier the shallow
 *   one (round-robin groups of 10, 6 rounds per level: 12 for 100 classes, 18 for 1000; argmaxShallow), for a segmentation
 *   network the binary tree (3 rounds per level; its thousands of pixels make the groups' extra
 *   comparisons cost more than rounds). The output layer is not truncated (argmax does not depend on the
 *   scale), so no share-dependent rounding exists at all. In a two-hop session (`twohop16`) the
 *   classifier's argmax compares its pairs with the two-hop test on exact 31-bit windows (TWO_HOP_PAIRS:
 *   4 rounds per level, 8 for 100 classes), exact while any two outputs differ by less than 2^30 units
 *   (2^(30-f) in value, 262,144 at f = 12).
 * - `topk:K`: the K largest classes per image, largest first (classifiers only).
 * - `logits`: the outputs at f bits. The output layer's truncation uses a helper-dealt pair (r, r >> f)
 *   (truncateDealt), so its one-unit rounding does not depend on a share the client holds.
 *
 * Ties go to the lower class index in every mode, as in the twin.
 * @module
 */
import type { NdArray } from 'ndarray';
import { decodeNdarray, RingTensor, shapeSize } from '@si/ring';
import { CLIENT, reveal, revealCost, sequential, shareInput, truncateDealt, truncateDealtCost, type Cost, type Party, type Shared } from '@si/sharing';
import { argmax, argmaxShallow, shallowCost, shallowGroup, topk, topkCost, treeCost, FULL, TWO_HOP_PAIRS, windowOf, type DreluMode } from '@si/relu-protocols';
import type { FixedModel } from './compile.ts';
import { fixedForward, prepareSecure, secureForward, type RunOptions, type SecureModel } from './executor.ts';

export type Reveal = { kind: 'label' } | { kind: 'topk'; k: number } | { kind: 'logits' };

export class RevealError extends Error {
  override readonly name = 'RevealError';
}

/**
 * `label`, `topk:K` or `logits`.
 * @throws {RevealError} for anything else
 */
export function parseReveal(text: string): Reveal {
  if (text === 'label' || text === 'logits') return { kind: text };
  const m = /^topk:(\d+)$/.exec(text);
  if (m && Number(m[1]) >= 1) return { kind: 'topk', k: Number(m[1]) };
  throw new RevealError(`unknown reveal mode "${text}" (use label, topk:K with K >= 1, or logits)`);
}

export const revealName = (r: Reveal): string => (r.kind === 'topk' ? `topk:${r.k}` : r.kind);

/** What the client learns for a batch of N. */
export interface Classified {
  /** Top-1 class per output position: [N] for a classifier, [N, H, W] for a segmentation network. */
  labels: Int32Array;
  labelShape: number[];
  /** topk:K only: [N, K] classes, largest first. */
  topk?: Int32Array;
  /** logits only: the outputs at f bits, decoded, as an ndarray of the output's shape [N, classes, ...]. */
  logits?: NdArray<Float64Array>;
}

/** Output [N, classes, ...spatial]: the classes axis is 1. */
function outputShape(m: FixedModel, N: number, r: Reveal): number[] {
  const shape = [N, ...m.graph.node(m.graph.output).shape];
  if (shape.length < 2) throw new RevealError(`the output of "${m.graph.name}" has shape [${shape.join(',')}]; a reveal mode needs [N, classes, ...]`);
  const classes = shape[1]!;
  if (r.kind === 'topk' && shape.length !== 2) throw new RevealError(`topk needs a classifier's output [N, classes]; "${m.graph.name}" outputs [${shape.join(',')}] (use label or logits)`);
  if (r.kind === 'topk' && r.k > classes) throw new RevealError(`topk:${r.k} asks for more classes than the model's ${classes}`);
  return shape;
}

const toInt32 = (t: RingTensor): Int32Array => Int32Array.from(t.data, (v) => Number(v));

/**
 * The online phase for a batch, ending with the reveal: every party calls it (the client with its
 * input, the others with its shape, as secureForward). Returns what the client learns, at the client;
 * null at the server and the helper.
 * @throws {RevealError} for a reveal mode the model's output does not support
 */
export async function secureClassify(p: Party, sm: SecureModel, x: Shared, what: Reveal, opts: RunOptions & { onOutput?(): void } = {}): Promise<Classified | null> {
  const shape = outputShape(sm.model, x.shape[0]!, what);
  const y = await secureForward(p, sm, x, { ...opts, untruncatedOutput: true });
  opts.onOutput?.();
  const t0 = performance.now();
  const out = await p.scope('output', async (q): Promise<Classified | null> => {
    if (what.kind === 'logits') {
      const z = await reveal(q, await truncateDealt(q, y, sm.model.f), 'client');
      if (p.id !== CLIENT) return null;
      return { ...labelsOf(z!, shape), logits: decodeNdarray(z!, sm.model.f) };
    }
    if (what.kind === 'topk') {
      const top = await reveal(q, await topk(q, y, what.k), 'client');
      if (p.id !== CLIENT) return null;
      const t = toInt32(top!);
      return { labels: t.filter((_, i) => i % what.k === 0), labelShape: [shape[0]!], topk: t };
    }
    const { index } = shape.length === 2 ? await argmaxShallow(q, y, 1, shallowGroup(shape[1]!), pairsFor(opts.mode)) : await argmax(q, y, 1, FULL);
    const labels = await reveal(q, index, 'client');
    return p.id === CLIENT ? { labels: toInt32(labels!), labelShape: labels!.shape.slice() } : null;
  });
  opts.timings?.set('output', (opts.timings.get('output') ?? 0) + (performance.now() - t0) / 1000);
  return out;
}

/** argmax over axis 1, first maximum on ties, in the clear. */
function labelsOf(y: RingTensor, shape: readonly number[]): { labels: Int32Array; labelShape: number[] } {
  const [N, C] = shape as [number, number];
  const inner = shapeSize(shape.slice(2));
  const labels = new Int32Array(N * inner);
  for (let n = 0; n < N; n++) {
    for (let i = 0; i < inner; i++) {
      let best = 0;
      for (let c = 1; c < C; c++) if (y.data[(n * C + c) * inner + i]! > y.data[(n * C + best) * inner + i]!) best = c;
      labels[n * inner + i] = best;
    }
  }
  return { labels, labelShape: [N, ...shape.slice(2)] };
}

/**
 * The twin of secureClassify: the fixed-point twin's output (untruncated, as the secure run computes
 * it; logits rounded to nearest) and the same reveal in the clear.
 */
export async function twinClassify(m: FixedModel, x: RingTensor, what: Reveal, opts: RunOptions = {}): Promise<Classified> {
  const shape = outputShape(m, x.shape[0]!, what);
  const y = await fixedForward(m, x, { ...opts, untruncatedOutput: true });
  if (what.kind === 'logits') {
    const z = y.shr(m.f);
    return { ...labelsOf(z, shape), logits: decodeNdarray(z, m.f) };
  }
  const { labels, labelShape } = labelsOf(y, shape);
  if (what.kind === 'label') return { labels, labelShape };
  const [N, C] = shape as [number, number];
  const top = new Int32Array(N * what.k);
  for (let n = 0; n < N; n++) {
    const order = Array.from({ length: C }, (_, c) => c).sort((a, b) => {
      const va = y.data[n * C + a]!, vb = y.data[n * C + b]!;
      return va === vb ? a - b : va > vb ? -1 : 1;
    });
    top.set(order.slice(0, what.k), n * what.k);
  }
  return { labels, labelShape, topk: top };
}

/** Declared cost of the output stage (after secureForward) for a batch of N. */
/** How a classifier's label argmax compares its pairs in a session of comparison mode `mode`. */
const pairsFor = (mode?: DreluMode): DreluMode => (mode && mode.mode !== 'full' && windowOf(mode).hops === 2 ? TWO_HOP_PAIRS : FULL);

/** Declared cost of the output stage of secureClassify (in a session of comparison mode `mode`: two-hop changes the label argmax). */
export function classifyCost(m: FixedModel, N: number, what: Reveal, mode?: DreluMode): Cost {
  const shape = outputShape(m, N, what);
  const n = shapeSize(shape);
  if (what.kind === 'logits') return sequential(truncateDealtCost(n), revealCost(n, 'client'));
  if (what.kind === 'topk') return sequential(topkCost(N, shape[1]!, what.k), revealCost(N * what.k, 'client'));
  const pick = shape.length === 2 ? shallowCost(shape, 1, shallowGroup(shape[1]!), pairsFor(mode)) : treeCost(shape, 1, FULL, true);
  return sequential(pick, revealCost(n / shape[1]!, 'client'));
}

/**
 * One batch of a session as every party runs it (the Node parties and the browser client share it, so
 * their scopes and phases cannot drift apart): the input-independent half in a scope 'pre' (phase
 * 'preprocess'; skipped when `preprocess` is false, then it folds into the online phase), then the
 * client's input shared, the forward and the output in a scope 'batch' (one ledger label for every
 * batch, so a long session's ledger does not grow). `x` is the client's encoded batch (undefined at the
 * others); `onPreprocessed` is called between the two.
 * @returns the client's result (null at the server and the helper)
 */
export async function secureBatch(
  p: Party, sm: SecureModel, shape: readonly number[], what: Reveal,
  o: RunOptions & { preprocess: boolean; x?: RingTensor; onOutput?(): void; onPreprocessed?(): void },
): Promise<Classified | null> {
  const { preprocess, x, onPreprocessed, ...run } = o;
  const pre = preprocess ? await p.scope('pre', (q) => prepareSecure(q, sm, shape[0]!), 'preprocess') : undefined;
  onPreprocessed?.();
  return p.scope('batch', (q) => secureClassify(q, sm, shareInput(q, CLIENT, shape, x), what, { ...run, ...(pre ? { pre } : {}) }));
}
