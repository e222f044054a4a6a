/**
 * One walk over a compiled graph, on two backends: the cleartext fixed-point twin (RingTensor) and the
 * secure three-party run (Shared, one Party per process). Every node is either local (the same linear
 * map applied to each share: add, sums, broadcasts, concatenation, public factors) or a protocol (linear
 * layers with server-known weights, (patch) ReLUs, max pooling). The twin truncates to nearest; the
 * secure run truncates locally, rounding down or up at random with mean x / 2^f (see @si/sharing's
 * truncate), so the two differ by at most one unit per truncation and not systematically.
 * @module
 */
import { conv2d, RingTensor, words } from '@si/ring';
import {
  addChannelBias, convOp, HELPER, KnownWeights, knownWeightsSetupCost, linearKnown, linearKnownCost, LinearPre, matmulOp, prepareLinearKnown,
  prepareLinearKnownCost, setupKnownWeights, Shared, SERVER, truncate, truncateClear, type Cost, type Party,
} from '@si/sharing';
import { maxpool, maxpoolClear, maxpoolCost, type DreluMode } from '@si/relu-protocols';
import { randomFillSync } from 'node:crypto';
import { patchRelu, patchReluClear, patchReluCost, patchReluFixed, type PatchSize } from '@si/patch-relu';
import type { Graph, Node } from '../graph.ts';
import { averagingFactor, type FixedModel, type FixedLayer } from './compile.ts';

export interface RunOptions {
  /** Patch sizes per ReLU layer (absent layers: plain ReLU). */
  spec?: Readonly<Record<string, readonly PatchSize[]>>;
  /** Comparison mode of the secure run (the twin always uses the exact sign). */
  mode?: DreluMode;
  /** Seconds spent per protocol node (conv, linear, ReLU, max pool; each also a ledger label), accumulated. */
  timings?: Map<string, number>;
  /** Preprocessing for this batch (from prepareSecure): the linear layers then send only their input online. */
  pre?: Preprocessed;
  /** Called as each node starts (progress, and naming the layer in errors). */
  onNode?(node: Node): void;
  /** The twin only: called with each ReLU layer's input (for margins and debugging). */
  onRelu?(node: string, input: RingTensor, sizes: readonly PatchSize[]): void;
}

/** What a backend does for each node kind. */
interface Backend<T> {
  shape(t: T): readonly number[];
  /** Applies the same linear map to the value (the twin) or to each share (the secure run). */
  local(ts: T[], fn: (rs: RingTensor[]) => RingTensor, shape: readonly number[]): T;
  truncate(t: T, f: number): T;
  layer(node: Node, t: T, f: number): Promise<T>;
  relu(node: Extract<Node, { op: 'relu' }>, t: T, sizes: readonly PatchSize[]): Promise<T>;
  maxpool(node: Extract<Node, { op: 'maxpool' }>, t: T): Promise<T>;
}

const ones = new Map<string, RingTensor>();
function onesKernel(C: number, k: number): RingTensor {
  const key = `${C}x${k}`;
  let t = ones.get(key);
  if (!t) ones.set(key, (t = RingTensor.from(new Array(C * k * k).fill(1), [C, 1, k, k])));
  return t;
}

/** Per-output averaging factors for an avgpool (uniform when padding counts). */
function poolFactors(node: Extract<Node, { op: 'avgpool' }>, inShape: readonly number[], f: number): RingTensor | bigint {
  if (node.countIncludePad) return BigInt(averagingFactor(f, node.kernel * node.kernel));
  const [, H, W] = inShape as [number, number, number];
  const [, OH, OW] = node.shape as [number, number, number];
  const vals: number[] = [];
  for (let oh = 0; oh < OH; oh++)
    for (let ow = 0; ow < OW; ow++) {
      const h0 = oh * node.stride - node.padding, w0 = ow * node.stride - node.padding;
      const h = Math.min(H, h0 + node.kernel) - Math.max(0, h0), w = Math.min(W, w0 + node.kernel) - Math.max(0, w0);
      vals.push(averagingFactor(f, h * w));
    }
  return RingTensor.from(vals, [OH * OW]);
}

function broadcastFactor(sum: RingTensor, factors: RingTensor | bigint): RingTensor {
  if (typeof factors === 'bigint') return sum.mulScalar(factors);
  const per = factors.size, reps = sum.size / per;
  const full = new BigInt64Array(sum.size);
  for (let r = 0; r < reps; r++) full.set(factors.data, r * per);
  return sum.mul(new RingTensor(full, sum.shape));
}

/** Gathers a new tensor from input elements by index (nearest resize, broadcast). */
function gather(src: RingTensor, idx: Int32Array, shape: readonly number[]): RingTensor {
  const out = new BigInt64Array(idx.length);
  const o = words(out), s = words(src.data);
  for (let i = 0; i < idx.length; i++) (o[2 * i] = s[2 * idx[i]!]!, (o[2 * i + 1] = s[2 * idx[i]! + 1]!));
  return new RingTensor(out, shape);
}

function resizeIndex(N: number, C: number, H: number, W: number, OH: number, OW: number): Int32Array {
  const idx = new Int32Array(N * C * OH * OW);
  let k = 0;
  for (let nc = 0; nc < N * C; nc++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++) idx[k++] = (nc * H + Math.min(H - 1, Math.floor((oh * H) / OH))) * W + Math.min(W - 1, Math.floor((ow * W) / OW));
  return idx;
}

async function walk<T>(m: FixedModel, be: Backend<T>, x: T, opts: RunOptions): Promise<T> {
  const g: Graph = m.graph, f = m.f;
  const vals = new Map<string, T>();
  const last = new Map<string, number>();
  g.nodes.forEach((n, i) => n.inputs.forEach((s) => last.set(s, i)));
  for (const [i, n] of g.nodes.entries()) {
    const xs = n.inputs.map((s) => vals.get(s)!);
    const a = xs[0]!;
    if (n.op !== 'input') opts.onNode?.(n);
    const N = n.op === 'input' ? 0 : be.shape(a)[0]!;
    let y: T;
    switch (n.op) {
      case 'input':
        y = x;
        break;
      case 'conv':
      case 'linear':
        y = await be.layer(n, a, f);
        break;
      case 'batchnorm':
        if (!m.folded.has(n.name)) throw new Error(`batch norm "${n.name}" was not folded`);
        y = a;
        break;
      case 'relu': {
        // Flat activations (after a linear layer) are channels of 1x1 maps.
        const shape = be.shape(a);
        const flat = shape.length === 2;
        const a4 = flat ? be.local([a], ([r]) => r!.reshape([shape[0]!, shape[1]!, 1, 1]), [shape[0]!, shape[1]!, 1, 1]) : a;
        const r4 = await be.relu(n, a4, opts.spec?.[n.layer] ?? []);
        y = flat ? be.local([r4], ([r]) => r!.reshape(shape), shape) : r4;
        break;
      }
      case 'relu6':
        throw new Error(`node "${n.name}": ReLU6 is not supported in secure inference`);
      case 'add':
        y = be.local(xs, ([p, q]) => p!.add(q!), be.shape(a));
        break;
      case 'avgpool': {
        const [C] = g.node(n.inputs[0]!).shape as [number];
        const factors = poolFactors(n, g.node(n.inputs[0]!).shape, f);
        const shape = [N, ...n.shape];
        const sum = be.local([a], ([r]) => conv2d(r!, onesKernel(C, n.kernel), { groups: C, stride: n.stride, padding: n.padding }), shape);
        y = be.truncate(be.local([sum], ([r]) => broadcastFactor(r!, factors), shape), f);
        break;
      }
      case 'maxpool':
        y = await be.maxpool(n, a);
        break;
      case 'gap': {
        const [C, H, W] = g.node(n.inputs[0]!).shape as [number, number, number];
        const factor = BigInt(averagingFactor(f, H * W));
        const shape = [N, C, 1, 1];
        y = be.truncate(be.local([a], ([r]) => r!.reshape([N, C, H * W]).sum(2).mulScalar(factor).reshape(shape), shape), f);
        break;
      }
      case 'flatten':
        y = be.local([a], ([r]) => r!.reshape([N, -1]), [N, ...n.shape]);
        break;
      case 'resize': {
        const [C, H, W] = g.node(n.inputs[0]!).shape as [number, number, number];
        const idx = resizeIndex(N, C, H, W, n.size[0], n.size[1]);
        const shape = [N, C, n.size[0], n.size[1]];
        y = be.local([a], ([r]) => gather(r!, idx, shape), shape);
        break;
      }
      case 'concat':
        y = be.local(xs, (rs) => RingTensor.concatChannels(rs), [N, ...n.shape]);
        break;
    }
    vals.set(n.name, y);
    for (const s of n.inputs) if (last.get(s) === i) vals.delete(s);
  }
  return vals.get(g.output)!;
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

/** The cleartext fixed-point twin (truncation to nearest, exact signs). x: [N, ...] at f bits. */
export function fixedForward(m: FixedModel, x: RingTensor, opts: RunOptions = {}): Promise<RingTensor> {
  const be: Backend<RingTensor> = {
    shape: (t) => t.shape,
    local: (ts, fn) => fn(ts),
    truncate: roundShift,
    async layer(n, t, f) {
      const L = m.layers.get(n.name);
      if (!L) throw new Error(`no weights for "${n.name}"`);
      const y = n.op === 'conv' ? conv2d(t, L.weight, { stride: n.stride, padding: n.padding, dilation: n.dilation, groups: n.groups }) : matmulOp.apply(t, L.weight);
      return addBias(roundShift(y, f), L.bias);
    },
    async relu(n, t, sizes) {
      opts.onRelu?.(n.name, t, reluSizes(sizes, t.shape[1]!));
      return patchReluFixed(t, reluSizes(sizes, t.shape[1]!));
    },
    async maxpool(n, t) {
      return maxpoolClear(t, { kernel: n.kernel, stride: n.stride, padding: n.padding });
    },
  };
  return walk(m, be, x, opts);
}

/**
 * The secure run's arithmetic in cleartext, in one process: every truncation and every (patch) ReLU is
 * computed from a fresh uniformly random split of its input into two shares, exactly as each party
 * computes it on its share (truncateClear, patchReluClear). Its outputs have the secure run's distribution
 * (local truncation one unit up now and then, the sign windows of the comparison mode), without the
 * traffic: it predicts how often secure and twin top-1 differ, and for which settings. Max pooling is
 * taken exact here (its comparisons are on differences, not simulated). Not a protocol.
 */
export function simulateForward(m: FixedModel, x: RingTensor, opts: RunOptions = {}): Promise<RingTensor> {
  const mode = opts.mode ?? { mode: 'full' };
  const split = (t: RingTensor): [RingTensor, RingTensor] => {
    const t0 = RingTensor.random(t.shape, (b) => void randomFillSync(b));
    return [t0, t.sub(t0)];
  };
  const trunc = (t: RingTensor, f: number): RingTensor => truncateClear(...split(t), f);
  const be: Backend<RingTensor> = {
    shape: (t) => t.shape,
    local: (ts, fn) => fn(ts),
    truncate: trunc,
    async layer(n, t, f) {
      const L = m.layers.get(n.name);
      if (!L) throw new Error(`no weights for "${n.name}"`);
      const y = n.op === 'conv' ? conv2d(t, L.weight, { stride: n.stride, padding: n.padding, dilation: n.dilation, groups: n.groups }) : matmulOp.apply(t, L.weight);
      return addBias(trunc(y, f), L.bias);
    },
    async relu(_n, t, sizes) {
      return patchReluClear(...split(t), reluSizes(sizes, t.shape[1]!), mode);
    },
    async maxpool(n, t) {
      return maxpoolClear(t, { kernel: n.kernel, stride: n.stride, padding: n.padding });
    },
  };
  return walk(m, be, x, opts);
}

function addBias(y: RingTensor, bias: RingTensor | null): RingTensor {
  if (!bias) return y;
  const [N, C] = y.shape as [number, number];
  const inner = y.size / (N * C);
  const full = new BigInt64Array(y.size);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) full.fill(bias.data[c]!, (n * C + c) * inner, (n * C + c + 1) * inner);
  return y.add(new RingTensor(full, y.shape));
}

async function timed<T>(timings: Map<string, number> | undefined, name: string, fn: () => Promise<T>): Promise<T> {
  if (!timings) return fn();
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    timings.set(name, (timings.get(name) ?? 0) + (performance.now() - t0) / 1000);
  }
}

/** A party's set-up model: the masked weights of every conv/linear layer (DESIGN §4). */
export interface SecureModel {
  model: FixedModel;
  weights: Map<string, KnownWeights>;
}

function opOf(n: Node) {
  if (n.op === 'conv') return convOp({ stride: n.stride, padding: n.padding, dilation: n.dilation, groups: n.groups });
  return matmulOp;
}

function weightShape(g: Graph, n: Node): number[] {
  const inShape = g.node(n.inputs[0]!).shape;
  if (n.op === 'conv') return [n.out, inShape[0]! / n.groups, ...n.kernel];
  if (n.op === 'linear') return [inShape[0]!, n.out];
  throw new Error(`"${n.name}" has no weights`);
}

/**
 * Setup phase (once per model and session): the server sends the client its masked weights, the helper
 * derives the masks. The server passes the full compiled model, the others its public view.
 */
export async function setupSecure(p: Party, m: FixedModel): Promise<SecureModel> {
  const weights = new Map<string, KnownWeights>();
  for (const n of m.graph.nodes) {
    if (n.op !== 'conv' && n.op !== 'linear') continue;
    const L: FixedLayer | undefined = m.layers.get(n.name);
    if (p.id === SERVER && !L) throw new Error(`the server has no weights for "${n.name}"`);
    weights.set(n.name, await setupKnownWeights(p, n.name, opOf(n), weightShape(m.graph, n), L?.weight, L?.bias ?? undefined));
  }
  return { model: m, weights };
}

/**
 * The online phase for a batch: every party calls it; the client passes its input shares' owner value
 * (x at f bits), the others only the shape. Returns this party's shares of the logits (null at the
 * helper); reveal them to the client. Each node runs under a ledger label equal to its name.
 */
export async function secureForward(p: Party, sm: SecureModel, x: Shared, opts: RunOptions = {}): Promise<Shared> {
  const mode = opts.mode ?? { mode: 'full' };
  const be: Backend<Shared> = {
    shape: (t) => t.shape,
    local: (ts, fn, shape) => new Shared(shape, p.id === HELPER ? null : fn(ts.map((t) => t.share!))),
    truncate: (t, f) => truncate(p, t, f),
    layer: (n, t, f) =>
      timed(opts.timings, n.name, () => p.scope(n.name, async () => {
        const kw = sm.weights.get(n.name)!;
        const pre = opts.pre?.layers.get(n.name);
        if (opts.pre && !pre) throw new Error(`the preprocessing has no entry for "${n.name}"`);
        const y = truncate(p, await linearKnown(p, t, kw, pre), f);
        return addChannelBias(p, y, kw.bias);
      })),
    relu: (n, t, sizes) => timed(opts.timings, n.name, () => p.scope(n.name, () => patchRelu(p, t, reluSizes(sizes, t.shape[1]!), mode))),
    maxpool: (n, t) => timed(opts.timings, n.name, () => p.scope(n.name, () => maxpool(p, t, { kernel: n.kernel, stride: n.stride, padding: n.padding }, mode))),
  };
  return walk(sm.model, be, x, opts);
}



const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
const reluSizes = (sizes: readonly PatchSize[], C: number): readonly PatchSize[] => (sizes.length ? sizes : new Array(C).fill([1, 1]));

/**
 * The declared online cost of secureForward on a batch of N, per protocol node (the ledger label each
 * runs under). Local nodes and truncations cost nothing; the model's weights are not needed. `prepared`:
 * the batch was preprocessed (prepareSecure), so linear layers send only their input online.
 */
export async function secureForwardCost(m: FixedModel, N: number, opts: RunOptions & { prepared?: boolean } = {}): Promise<Map<string, Cost>> {
  const mode = opts.mode ?? { mode: 'full' };
  const costs = new Map<string, Cost>();
  await shapeWalk(m, N, opts, {
    layer: (n, x, y) => void costs.set(n.name, linearKnownCost(sizeOf(x), sizeOf(y), opts.prepared)),
    relu: (n, x, sizes) => void costs.set(n.name, patchReluCost(x, sizes, mode)),
    maxpool: (n, x) => void costs.set(n.name, maxpoolCost(x, { kernel: n.kernel, stride: n.stride, padding: n.padding }, mode)),
  });
  return costs;
}

/** Input-independent work for one batch of N, done ahead of the input (see prepareLinearKnown). */
export interface Preprocessed {
  N: number;
  layers: Map<string, LinearPre>;
}

/** Shapes through the graph for a batch of N, calling `layer` on each conv/linear node in order. */
async function shapeWalk(m: FixedModel, N: number, opts: RunOptions, hooks: {
  layer?(n: Node, x: readonly number[], y: readonly number[]): Promise<void> | void;
  relu?(n: Node, x: readonly number[], sizes: readonly PatchSize[]): void;
  maxpool?(n: Extract<Node, { op: 'maxpool' }>, x: readonly number[]): void;
}): Promise<void> {
  const be: Backend<readonly number[]> = {
    shape: (t) => t,
    local: (_ts, _fn, shape) => shape,
    truncate: (t) => t,
    async layer(n, t) {
      const y = [N, ...n.shape];
      await hooks.layer?.(n, t, y);
      return y;
    },
    async relu(n, t, sizes) {
      hooks.relu?.(n, t, reluSizes(sizes, t[1]!));
      return t;
    },
    async maxpool(n, t) {
      hooks.maxpool?.(n, t);
      return [N, ...n.shape];
    },
  };
  await walk(m, be, [N, ...m.graph.inputShape], opts);
}

/**
 * Preprocessing for a batch of N: every party calls it (in a 'preprocess' scope) before the batch's
 * secureForward and passes the result as `pre`.
 */
export async function prepareSecure(p: Party, sm: SecureModel, N: number): Promise<Preprocessed> {
  const layers = new Map<string, LinearPre>();
  await shapeWalk(sm.model, N, {}, {
    layer: async (n, x) => void layers.set(n.name, await p.scope(n.name, () => prepareLinearKnown(p, sm.weights.get(n.name)!, x))),
  });
  return { N, layers };
}

/** The declared cost of prepareSecure, per conv/linear node. */
export async function prepareSecureCost(m: FixedModel, N: number): Promise<Map<string, Cost>> {
  const costs = new Map<string, Cost>();
  await shapeWalk(m, N, {}, { layer: (n, _x, y) => void costs.set(n.name, prepareLinearKnownCost(sizeOf(y))) });
  return costs;
}

/** The declared cost of setupSecure, per conv/linear node. */
export function setupSecureCost(g: Graph): Map<string, Cost> {
  const costs = new Map<string, Cost>();
  for (const n of g.nodes) if (n.op === 'conv' || n.op === 'linear') costs.set(n.name, knownWeightsSetupCost(sizeOf(weightShape(g, n))));
  return costs;
}
