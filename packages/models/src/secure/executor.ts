/**
 * The ring backends of the op table's `ring` semantics, on the one graph walk: the cleartext fixed-point
 * twin (RingTensor), the simulation of the secure arithmetic (RingTensor), the secure three-party run
 * (Shared, one Party per process) and the shape walk that declares costs and does the per-batch
 * preprocessing. The twin truncates to nearest and takes exact signs; the secure run truncates locally,
 * rounding down or up at random with mean x / 2^f (see @si/sharing's truncate), and compares on the
 * mode's window, so the two differ by at most one unit per truncation (and not systematically) where the
 * activations stay in the window.
 * @module
 */
import { RingTensor, shapeSize, secureRandom } from '@si/ring';
import {
  addChannelBias, broadcastChannels, HELPER, KnownWeights, knownWeightsSetupCost, linearKnown, linearKnownCost, LinearPre, prepareLinearKnown,
  prepareLinearKnownCost, sequential, setupKnownWeights, Shared, SERVER, truncate, truncateShare, type Bilinear, type Cost, type Party,
} from '@si/sharing';
import { maxpool, maxpoolCost, type DreluMode } from '@si/relu-protocols';
import { patchClip, patchClipCost, patchRelu, patchReluCost, patchReluFixed, RELU, simulatePatchRelu, type PatchSize } from '@si/patch-relu';
import type { Graph, Node, Shape } from '../graph.ts';
import type { Backend, LayerSizes } from '../ops/op.ts';
import { maxpoolFixed } from '../ops/maxpool.ts';
import { opDef } from '../ops/table.ts';
import { walkAsync } from '../walk.ts';
import type { FixedModel } from './compile.ts';

/** A comparing layer's input in the twin (RunOptions.onCompare). */
export interface Comparison {
  node: Node;
  kind: 'relu' | 'clip' | 'maxpool';
  /** [N, C, H, W] at f bits. */
  input: RingTensor;
  sizes?: readonly PatchSize[];
  /** clip: the upper bound at f bits. */
  hi?: bigint;
  pool?: { kernel: number; stride: number; padding: number };
}

export interface RunOptions {
  /** Patch sizes per ReLU layer (absent layers: plain ReLU). */
  spec?: LayerSizes;
  /** Comparison mode of the secure run and the simulation (the twin always uses the exact sign). */
  mode?: DreluMode;
  /** Seconds spent per node that runs a protocol (each also a ledger label), accumulated. */
  timings?: Map<string, number>;
  /** Preprocessing for this batch (from prepareSecure, used once): the linear layers then send only their input online. */
  pre?: Preprocessed;
  /** Called as each node starts (progress, and naming the layer in errors). */
  onNode?(node: Node): void;
  /**
   * The twin only: what each comparing layer compares, in the clear (for window checks and margins):
   * (patch) ReLUs and clips with their input and patch sizes (and the clip's bound), max pools with
   * their input and window.
   */
  onCompare?(c: Comparison): void;
  /**
   * The output node, when it is a conv or linear layer, skips its truncation and adds its bias at 2f bits:
   * the outputs come out at 2f fractional bits, with no rounding of their own. For a label-only output
   * (argmax does not care about the scale), or before a helper-dealt truncation (truncateDealt) whose
   * rounding does not depend on a share the client holds.
   */
  untruncatedOutput?: boolean;
}

const sizesOf = (spec: LayerSizes | undefined) => (layer: string, C: number): readonly PatchSize[] => spec?.[layer] ?? new Array(C).fill(RELU);

/** t + the node's bias per channel (shifted left by `shift` bits), in the clear. */
function withBias(m: FixedModel, n: Node, t: RingTensor, shift = 0): RingTensor {
  const b = layerOf(m, n).bias;
  return b ? t.add(broadcastChannels(b.shl(shift), t.shape)) : t;
}

function layerOf(m: FixedModel, n: Node) {
  const L = m.layers.get(n.name);
  if (!L) throw new Error(`no weights for "${n.name}"`);
  return L;
}

/**
 * x / 2^f rounded to the nearest integer (halves up): the twin's truncation. The secure run's local
 * truncation rounds stochastically, up with probability (x mod 2^f) / 2^f, so its mean is x / 2^f; a floor
 * here would sit half a unit below the secure run at every truncation, a bias that accumulates through
 * the layers and moves patch signs and top-1 decisions systematically.
 */
function roundShift(t: RingTensor, f: number): RingTensor {
  return f === 0 ? t : t.addScalar(1n << BigInt(f - 1)).shrInPlace(f);
}

const clipAt = (t: RingTensor, hi: bigint): RingTensor => RingTensor.from(Array.from(t.data, (v) => (v > hi ? hi : v)), t.shape);

/** The cleartext fixed-point twin: truncation to nearest, exact signs of every (patch) sum. */
function twinBackend(m: FixedModel, opts: RunOptions): Backend<RingTensor> {
  return {
    f: m.f,
    shape: (t) => t.shape,
    local: (ts, fn) => fn([...ts]),
    truncate: roundShift,
    linear: async (n, t, op) => op.apply(t, layerOf(m, n).weight),
    bias: (n, t, shift) => withBias(m, n, t, shift),
    async patchRelu(n, t, sizes) {
      opts.onCompare?.({ node: n, kind: 'relu', input: t, sizes });
      return patchReluFixed(t, sizes);
    },
    async patchClip(n, t, sizes, hi) {
      opts.onCompare?.({ node: n, kind: 'clip', input: t, sizes, hi });
      return clipAt(patchReluFixed(t, sizes), hi);
    },
    async maxpool(n, t, o) {
      opts.onCompare?.({ node: n, kind: 'maxpool', input: t, pool: { kernel: o.kernel, stride: o.stride ?? o.kernel, padding: o.padding ?? 0 } });
      return maxpoolFixed(t, o.kernel, o.stride ?? o.kernel, o.padding ?? 0);
    },
    sizes: sizesOf(opts.spec),
  };
}

/** The cleartext fixed-point twin of a compiled model (truncation to nearest, exact signs). x: [N, ...] at f bits. */
export async function fixedForward(m: FixedModel, x: RingTensor, opts: RunOptions = {}): Promise<RingTensor> {
  return ringRun(m, twinBackend(m, opts), x, opts);
}

/**
 * The secure run's arithmetic in cleartext, in one process: every truncation and every (patch) ReLU is
 * computed from a fresh uniformly random split of its input into two shares, exactly as each party
 * computes it on its share (truncateShare, simulatePatchRelu). Its outputs have the secure run's
 * distribution (local truncation one unit up now and then, the sign windows of the comparison mode),
 * without the traffic: it predicts how often secure and twin top-1 differ, and for which settings. Max
 * pooling is taken exact here (its comparisons are on differences, not simulated). Not a protocol.
 */
export async function simulateForward(m: FixedModel, x: RingTensor, opts: RunOptions = {}): Promise<RingTensor> {
  const mode = opts.mode ?? { mode: 'full' };
  const split = (t: RingTensor): [RingTensor, RingTensor] => {
    const t0 = RingTensor.random(t.shape, (b) => void secureRandom(b));
    return [t0, t.sub(t0)];
  };
  const twin = twinBackend(m, opts);
  const trunc = (t: RingTensor, f: number): RingTensor => {
    const [t0, t1] = split(t);
    return truncateShare(t0, f, 0).add(truncateShare(t1, f, 1));
  };
  const relu = (t: RingTensor, sizes: readonly PatchSize[]) => simulatePatchRelu(...split(t), sizes, mode);
  const be: Backend<RingTensor> = {
    ...twin,
    truncate: trunc,
    patchRelu: async (_n, t, sizes) => relu(t, sizes),
    async patchClip(_n, t, sizes, hi) {
      // min(y, hi) = y - relu(y - hi) per pixel, as the secure layer computes it.
      const y = relu(t, sizes);
      return y.sub(relu(y.addScalar(-hi), new Array(t.shape[1]!).fill(RELU)));
    },
  };
  return ringRun(m, be, x, opts);
}


/** The walk on a ring backend: each node by its op's ring semantics. */
async function ringRun<T>(m: FixedModel, be: Backend<T>, x: T, opts: RunOptions, per?: (n: Node, run: (be: Backend<T>) => Promise<T>) => Promise<T>): Promise<T> {
  const g: Graph = m.graph;
  const vals = await walkAsync(g, x, async ({ node, inputs }) => {
    if (node.op === 'batchnorm' && !m.folded.has(node.name)) throw new Error(`batch norm "${node.name}" was not folded`);
    opts.onNode?.(node);
    const untruncated = opts.untruncatedOutput && node.name === g.output && opDef(node.op).weights !== undefined;
    const at2f = (b: Backend<T>): Backend<T> => ({ ...b, truncate: (t) => t, bias: (n, t) => b.bias(n, t, b.f) });
    const run = async (b: Backend<T>) => opDef(node.op).ring(untruncated ? at2f(b) : b, node as never, inputs);
    return per ? per(node, run) : run(be);
  });
  return vals.get(g.output)!;
}

/** A party's set-up model: the masked weights of every conv/linear layer (DESIGN §4). */
export interface SecureModel {
  model: FixedModel;
  weights: Map<string, KnownWeights>;
}

/** The nodes with server-known weights, their bilinear op and weight shape. */
function weighted(g: Graph): { node: Node; op: Bilinear; shape: number[] }[] {
  const out: { node: Node; op: Bilinear; shape: number[] }[] = [];
  for (const n of g.nodes) {
    const w = opDef(n.op).weights?.(n as never, g.inputShapes(n));
    if (w) out.push({ node: n, ...w });
  }
  return out;
}

/**
 * Setup phase (once per model and session): the server sends the client its masked weights, the helper
 * derives the masks. The server passes the full compiled model, the others its public view.
 */
export async function setupSecure(p: Party, m: FixedModel): Promise<SecureModel> {
  const weights = new Map<string, KnownWeights>();
  for (const { node, op, shape } of weighted(m.graph)) {
    const L = m.layers.get(node.name);
    if (p.id === SERVER && !L) throw new Error(`the server has no weights for "${node.name}"`);
    weights.set(node.name, await setupKnownWeights(p, node.name, op, shape, L?.weight, L?.bias ?? undefined));
  }
  return { model: m, weights };
}

/** The secure backend of one party, in the scope of the node it runs; `used` is set when a protocol runs. */
function secureBackend(p: Party, sm: SecureModel, opts: RunOptions, used: { protocol: boolean } = { protocol: false }): Backend<Shared> {
  const mode = opts.mode ?? { mode: 'full' };
  const protocol = <A extends unknown[], R>(fn: (...a: A) => R) => (...a: A): R => ((used.protocol = true), fn(...a));
  return {
    f: sm.model.f,
    shape: (t) => t.shape,
    local: (ts, fn, shape) => new Shared(shape, p.id === HELPER ? null : fn(ts.map((t) => t.share!))),
    truncate: (t, f) => truncate(p, t, f),
    linear: protocol(async (n: Node, t: Shared) => {
      const pre = opts.pre?.layers.get(n.name);
      if (opts.pre && !pre) throw new Error(`the preprocessing has no entry for "${n.name}"`);
      return linearKnown(p, t, sm.weights.get(n.name)!, pre);
    }),
    bias: (n, t, shift = 0) => addChannelBias(p, t, sm.weights.get(n.name)!.bias?.shl(shift) ?? null),
    patchRelu: protocol((_n: Node, t: Shared, sizes: readonly PatchSize[]) => patchRelu(p, t, sizes, mode)),
    patchClip: protocol((_n: Node, t: Shared, sizes: readonly PatchSize[], hi: bigint) => patchClip(p, t, sizes, hi, mode)),
    maxpool: protocol((_n: Node, t: Shared, o: { kernel: number; stride?: number; padding?: number }) => maxpool(p, t, o, mode)),
    sizes: sizesOf(opts.spec),
  };
}

/**
 * The online phase for a batch: every party calls it; the client passes its input shares' owner value
 * (x at f bits), the others only the shape. Returns this party's shares of the logits (null at the
 * helper); reveal them to the client. Each node runs in a scope named after it.
 * @throws {Error} when `pre` is for another batch size or was used before
 */
export async function secureForward(p: Party, sm: SecureModel, x: Shared, opts: RunOptions = {}): Promise<Shared> {
  if (opts.pre) opts.pre.take(x.shape[0]!);
  return ringRun(sm.model, secureBackend(p, sm, opts), x, opts, async (n, run) => {
    const used = { protocol: false }, t0 = performance.now();
    const y = await p.scope(n.name, (q) => run(secureBackend(q, sm, opts, used)));
    if (used.protocol && opts.timings) opts.timings.set(n.name, (opts.timings.get(n.name) ?? 0) + (performance.now() - t0) / 1000);
    return y;
  });
}

/**
 * The linear nodes that reuse the input mask of an earlier linear node reading the same tensor (a
 * residual block's downsample conv after its first conv, ASPP branches): with preprocessing, the first
 * sends E and the others nothing (prepareLinearKnown's `sameInputAs`). Maps each to that earlier node.
 */
function sharedMasks(g: Graph): Map<string, string> {
  const first = new Map<string, string>(), out = new Map<string, string>();
  for (const { node } of weighted(g)) {
    const src = node.inputs[0]!, prev = first.get(src);
    if (prev === undefined) first.set(src, node.name);
    else out.set(node.name, prev);
  }
  return out;
}

/** The shape walk: T is a full shape; primitives record what they cost, per node. */
function shapeBackend(f: number, opts: RunOptions, record: (n: Node, c: Cost) => void, onLinear?: (n: Node, x: Shape, y: Shape) => Promise<void>, shared: ReadonlyMap<string, string> = new Map()): Backend<Shape> {
  const mode = opts.mode ?? { mode: 'full' };
  return {
    f,
    shape: (t) => t,
    local: (_ts, _fn, shape) => shape,
    truncate: (t) => t,
    async linear(n, t, _op, y) {
      record(n, linearKnownCost(shapeSize(t), shapeSize(y), !!opts.pre, !!opts.pre && shared.has(n.name)));
      await onLinear?.(n, t, y);
      return y;
    },
    bias: (_n, t) => t,
    patchRelu: async (n, t, sizes) => (record(n, patchReluCost(t, sizes, mode)), t),
    patchClip: async (n, t, sizes) => (record(n, patchClipCost(t, sizes, mode)), t),
    async maxpool(n, t, o) {
      record(n, maxpoolCost(t, o, mode));
      return [t[0]!, ...n.shape];
    },
    sizes: sizesOf(opts.spec),
  };
}

/**
 * The declared online cost of secureForward on a batch of N, per node with traffic (the ledger label it
 * runs under). Local nodes and truncations cost nothing; the model's weights are not needed. `prepared`:
 * the batch was preprocessed (prepareSecure), so linear layers send only their input online.
 */
export async function secureForwardCost(m: FixedModel, N: number, opts: RunOptions & { prepared?: boolean } = {}): Promise<Map<string, Cost>> {
  const costs = new Map<string, Cost>();
  const record = (n: Node, c: Cost) => costs.set(n.name, costs.has(n.name) ? sequential(costs.get(n.name)!, c) : c);
  const o = opts.prepared ? { ...opts, pre: new Preprocessed(N, new Map()) } : opts;
  await ringRun(m, shapeBackend(m.f, o, record, undefined, sharedMasks(m.graph)), [N, ...m.graph.inputShape], {});
  return costs;
}

/** Input-independent work for one batch of N, done ahead of the input (see prepareLinearKnown). Single-use. */
export class Preprocessed {
  private used = false;
  constructor(readonly N: number, readonly layers: Map<string, LinearPre>) {}

  /** @throws {Error} for another batch size, or on a second use */
  take(N: number): void {
    if (N !== this.N) throw new RangeError(`preprocessing for a batch of ${this.N} used for a batch of ${N}`);
    if (this.used) throw new Error('this preprocessing was already used: a second batch masked with the same randomness would show the server the difference of the two');
    this.used = true;
  }
}

/**
 * Preprocessing for a batch of N: every party calls it (in a 'preprocess' scope) before the batch's
 * secureForward and passes the result as `pre`.
 */
export async function prepareSecure(p: Party, sm: SecureModel, N: number): Promise<Preprocessed> {
  const layers = new Map<string, LinearPre>();
  const shared = sharedMasks(sm.model.graph);
  const onLinear = async (n: Node, x: Shape) => {
    const src = shared.get(n.name);
    layers.set(n.name, await p.scope(n.name, (q) => prepareLinearKnown(q, sm.weights.get(n.name)!, x, src === undefined ? undefined : layers.get(src)!)));
  };
  await ringRun(sm.model, shapeBackend(sm.model.f, {}, () => {}, onLinear), [N, ...sm.model.graph.inputShape], {});
  return new Preprocessed(N, layers);
}

/** The declared cost of prepareSecure, per conv/linear node. */
export async function prepareSecureCost(m: FixedModel, N: number): Promise<Map<string, Cost>> {
  const costs = new Map<string, Cost>();
  const onLinear = async (n: Node, _x: Shape, y: Shape) => void costs.set(n.name, prepareLinearKnownCost(shapeSize(y)));
  await ringRun(m, shapeBackend(m.f, {}, () => {}, onLinear), [N, ...m.graph.inputShape], {});
  return costs;
}

/** The declared cost of setupSecure, per conv/linear node. */
export function setupSecureCost(g: Graph): Map<string, Cost> {
  return new Map(weighted(g).map(({ node, shape }) => [node.name, knownWeightsSetupCost(shapeSize(shape))]));
}
