/**
 * What an op is: one value that holds everything the library does with a node kind, so that adding an op
 * touches its own file (and its test). The graph walk (walk.ts) runs an op's `forward`/`backward` in the
 * float engine and its `ring` on every ring backend: the fixed-point twin, the simulation of the secure
 * arithmetic, the secure three-party run, and the shape walk that declares costs and does the per-batch
 * preprocessing. `ring` is written once, in terms of the Backend primitives below (sytorch's Backend<T>
 * seam): local linear maps, truncation, server-known linear layers, bias, (patch) ReLU and Clip, max pool.
 * @module
 */
import type { RingTensor } from '@si/ring';
import type { Bilinear } from '@si/sharing';
import type { PatchSize } from '@si/patch-relu';
import type { PoolOptions } from '@si/relu-protocols';
import type { BufferPool } from '../float/pool.ts';
import type { Graph, Node, NodeOf, OpName, OpTypes, ParamSpec, Shape } from '../graph.ts';

export type Params = Map<string, Float32Array>;

/** Patch sizes per ReLU layer (a spec's `layers`). Layers not listed are plain ReLUs. */
export type LayerSizes = Readonly<Record<string, readonly PatchSize[]>>;

/** What a float forward or backward step of a node sees. */
export interface FloatCtx {
  readonly graph: Graph;
  readonly params: Params;
  readonly pool: BufferPool;
  /** Batch size. */
  readonly N: number;
  /** Batch statistics in batch norm (and their running averages updated). */
  readonly training: boolean;
  /** Keep what backward needs (caches). */
  readonly keep: boolean;
  readonly spec?: LayerSizes;
  /** A parameter of the graph. @throws {Error} when missing */
  param(name: string): Float32Array;
}

export interface FloatForward {
  y: Float32Array;
  /** What backward needs (buffers from the pool, or an object of them); omitted when keep is false. */
  cache?: unknown;
}

export interface FloatBackward {
  /** Gradient for each input (null where not needed). */
  dx: (Float32Array | null)[];
  /** Parameter gradients. */
  grads?: [string, Float32Array][];
}

/** An encoded conv/linear layer: the server's secret. */
export interface FixedLayer {
  /** conv: [O, C/g, kh, kw]; linear: [in, out] (transposed for x W). */
  weight: RingTensor;
  /** [O] at f bits, or null. */
  bias: RingTensor | null;
}

/** What an op's compile step sees and writes. */
export interface CompileCtx {
  readonly graph: Graph;
  readonly f: number;
  /** A float parameter. @throws {CompileError} when missing */
  param(name: string): Float32Array;
  readonly layers: Map<string, FixedLayer>;
  /** Batch norms folded into the conv before them. */
  readonly folded: Set<string>;
}

/**
 * The primitives every ring backend implements (T: a RingTensor in the twin and the simulation, a Shared
 * in the secure run, a shape in the cost walk). Shapes are full ([N, ...]).
 */
export interface Backend<T> {
  /** Fractional bits of the fixed-point encoding. */
  readonly f: number;
  shape(t: T): Shape;
  /** The same linear map on the value (twin) or on each share (secure): purely local. */
  local(ts: readonly T[], fn: (rs: RingTensor[]) => RingTensor, shape: Shape): T;
  /** Fixed-point truncation by f bits (twin: to nearest; secure: local, one ulp up now and then). */
  truncate(t: T, f: number): T;
  /** op(t, W) for the node's server-known weights W (no truncation, no bias). */
  linear(node: Node, t: T, op: Bilinear, yShape: Shape): Promise<T>;
  /** t plus the node's per-channel bias (at f + shift bits: the server adds it, shifted left by `shift`). */
  bias(node: Node, t: T, shift?: number): T;
  /** Patch ReLU of [N, C, H, W] with one size per channel (plain ReLUs: all [1, 1]). */
  patchRelu(node: Node, t: T, sizes: readonly PatchSize[]): Promise<T>;
  /** min(patchRelu(t), hi) per pixel (Clip(0, hi) with the lower bound as patches). */
  patchClip(node: Node, t: T, sizes: readonly PatchSize[], hi: bigint): Promise<T>;
  maxpool(node: Node, t: T, o: PoolOptions): Promise<T>;
  /** The patch sizes of a ReLU layer in this run (all [1, 1] when the spec has none). */
  sizes(layer: string, channels: number): readonly PatchSize[];
}

export interface OpDef<K extends OpName> {
  readonly op: K;
  /** Per-image output shape from the attributes and the inputs' shapes. @throws {GraphError} */
  shape(attrs: OpTypes[K], inputs: readonly Shape[], name: string): Shape;
  params?(n: NodeOf<K>, inputs: readonly Shape[]): ParamSpec[];
  /** The patch-spec layer of a ReLU-like node. */
  layer?(n: NodeOf<K>): string;
  /** A ReLU-like node that also clips above, per pixel (its DReLU count and knapsack costs include it). */
  clipped?: true;
  /** Nodes with server-known weights: the bilinear op and the weight shape (secure setup). */
  weights?(n: NodeOf<K>, inputs: readonly Shape[]): { op: Bilinear; shape: number[] };
  /** Fixed-point compile: encode this node's weights, fold what it absorbs. */
  compile?(n: NodeOf<K>, c: CompileCtx): void;
  /** Why secure inference cannot run this node, or null. */
  refuse?(n: NodeOf<K>, graph: Graph): string | null;
  forward(c: FloatCtx, n: NodeOf<K>, xs: readonly Float32Array[]): FloatForward;
  /** `xs()` gives the inputs (kept by a forward with keep); `need[i]`: input i wants a gradient. */
  backward(c: FloatCtx, n: NodeOf<K>, dy: Float32Array, cache: unknown, xs: () => readonly Float32Array[], need: readonly boolean[]): FloatBackward;
  /** The node on a ring backend (twin, simulation, secure, cost): its fixed-point semantics. */
  ring<T>(be: Backend<T>, n: NodeOf<K>, xs: readonly T[]): T | Promise<T>;
}

/** An op definition (the op table's entries). */
export type AnyOp = { [K in OpName]: OpDef<K> }[OpName];

/** Makes an op definition (identity, for inference of K). */
export const defineOp = <K extends OpName>(d: OpDef<K>): OpDef<K> => d;
