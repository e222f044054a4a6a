/**
 * The float32 engine: forward (inference or training, with optional patch ReLUs from a spec) and
 * backward over a graph, each node by its op's forward/backward (the op table), forward on the one graph
 * walk (walk.ts). Parameters are a Map from `${node}.${param}` to Float32Array.
 * @module
 */
import type { Graph, Node } from '../graph.ts';
import { opDef } from '../ops/table.ts';
import type { FloatCtx, LayerSizes, Params } from '../ops/op.ts';
import { walkSync } from '../walk.ts';
import { defaultPool, type BufferPool } from './pool.ts';
import { shapeSize } from '@si/ring';


export interface ForwardOptions {
  /** Batch statistics in batch norm (and their running averages updated). Default false. */
  training?: boolean;
  /** Patch ReLU sizes per layer. */
  spec?: LayerSizes;
  /** Keep what backward needs. Default: equal to `training`. */
  keep?: boolean;
  /** Also return these nodes' outputs (e.g. activations for distortion). */
  capture?: readonly string[];
  /** Where buffers come from (default: the engine's shared pool). */
  pool?: BufferPool;
  /**
   * Node outputs to use instead of computing them (e.g. cached clean activations, to rerun only the part
   * of the network after a changed layer). Nodes that only feed given nodes are not run. The caller keeps
   * ownership of these buffers.
   */
  given?: ReadonlyMap<string, Float32Array>;
}

export interface Trace {
  graph: Graph;
  N: number;
  values: Map<string, Float32Array>;
  caches: Map<string, unknown>;
  pool: BufferPool;
  /** Buffers release() leaves alone: the output, captured and given values (the caller's). */
  held: Set<ArrayBufferView>;
  /** What the forward pass ran with (backward runs the same way). */
  ctx: FloatCtx;
}

/**
 * Gives a trace's buffers back to its pool (activations and caches; not the graph input, and not the
 * output or captured tensors, which the caller holds). Call after backward, before the next step.
 */
export function release(trace: Trace, keep: readonly Float32Array[] = []): void {
  const spare = new Set<ArrayBufferView>([...keep, ...trace.held]);
  spare.add(trace.values.get(trace.graph.input)!);
  const seen = new Set<ArrayBufferView>();
  const give = (a: ArrayBufferView | undefined): void => {
    if (!a || spare.has(a) || seen.has(a)) return;
    seen.add(a);
    trace.pool.release(a);
  };
  for (const v of trace.values.values()) give(v);
  for (const c of trace.caches.values()) {
    if (ArrayBuffer.isView(c)) give(c);
    else if (c && typeof c === 'object') for (const v of Object.values(c)) if (ArrayBuffer.isView(v)) give(v);
  }
  trace.values.clear();
  trace.caches.clear();
}

/** Gives gradient buffers back to the pool they came from (after the optimizer step). */
export function releaseGrads(grads: Params, pool: BufferPool = defaultPool): void {
  for (const g of grads.values()) pool.release(g);
  grads.clear();
}

function context(graph: Graph, params: Params, N: number, pool: BufferPool, training: boolean, keep: boolean, spec: LayerSizes | undefined): FloatCtx {
  return {
    graph, params, pool, N, training, keep, ...(spec ? { spec } : {}),
    param(name) {
      const p = params.get(name);
      if (!p) throw new Error(`missing parameter "${name}"`);
      return p;
    },
  };
}

/**
 * Runs the graph on a batch x [N, ...inputShape].
 * @returns the output [N, ...outputShape], the captured node outputs, and the trace backward needs
 */
export function forward(graph: Graph, params: Params, x: Float32Array, N: number, opts: ForwardOptions = {}): { out: Float32Array; captured: Map<string, Float32Array>; trace: Trace } {
  const training = !!opts.training, keep = opts.keep ?? training;
  const pool = opts.pool ?? defaultPool;
  if (x.length !== N * shapeSize(graph.inputShape)) throw new RangeError(`input has ${x.length} values, expected ${N} x [${graph.inputShape.join(',')}]`);
  for (const [name, g] of opts.given ?? []) {
    const n = graph.node(name);
    if (g.length !== N * shapeSize(n.shape)) throw new RangeError(`given value of "${name}" has ${g.length} values, expected ${N} x [${n.shape.join(',')}]`);
  }
  const ctx = context(graph, params, N, pool, training, keep, opts.spec);
  const caches = new Map<string, unknown>();
  const captured = new Map<string, Float32Array>();
  const want = new Set(opts.capture ?? []);
  const values = walkSync<Float32Array>(graph, x, ({ node, inputs }) => {
    const r = opDef(node.op).forward(ctx, node as never, inputs);
    if (keep && r.cache !== undefined) caches.set(node.name, r.cache);
    if (want.has(node.name)) captured.set(node.name, r.y);
    return r.y;
  }, { keepAll: keep, keep: want, ...(opts.given ? { given: opts.given } : {}), release: (v) => pool.release(v) });
  for (const name of want) if (!captured.has(name) && values.has(name)) captured.set(name, values.get(name)!);
  const out = values.get(graph.output)!;
  const held = new Set<ArrayBufferView>([out, ...captured.values(), ...(opts.given?.values() ?? [])]);
  return { out, captured, trace: { graph, N, values, caches, pool, held, ctx } };
}

/**
 * Gradients of a scalar loss with respect to every parameter (and the input), given dLoss/dOutput.
 * Needs a trace from forward(..., { keep: true }) (training forward keeps by default).
 */
export function backward(trace: Trace, params: Params, dOut: Float32Array, wantInput = false, capture: readonly string[] = []): { grads: Params; dInput: Float32Array | null; captured: Map<string, Float32Array> } {
  const { graph, values, caches } = trace;
  const P = trace.pool;
  const ctx = { ...trace.ctx, params };
  const grads: Params = new Map();
  const dv = new Map<string, Float32Array>();
  const want = new Set(capture), captured = new Map<string, Float32Array>();
  const addGrad = (name: string, g: Float32Array): void => {
    const have = dv.get(name);
    if (!have) dv.set(name, g);
    else {
      for (let i = 0; i < g.length; i++) have[i]! += g[i]!;
      P.release(g);
    }
  };
  dv.set(graph.output, dOut);
  for (let idx = graph.nodes.length - 1; idx >= 0; idx--) {
    const n: Node = graph.nodes[idx]!;
    const dy = dv.get(n.name);
    if (!dy || n.op === 'input') continue;
    if (want.has(n.name)) captured.set(n.name, Float32Array.from(dy));
    const xs = () => n.inputs.map((i) => {
      const v = values.get(i);
      if (!v) throw new Error(`backward: the output of "${i}" was not kept; run forward with { keep: true }`);
      return v;
    });
    const need = n.inputs.map((i) => graph.node(i).op !== 'input' || wantInput);
    const r = opDef(n.op).backward(ctx, n as never, dy, caches.get(n.name), xs, need);
    for (const [k, g] of r.grads ?? []) grads.set(k, g);
    r.dx.forEach((g, i) => {
      if (!g) return;
      if (need[i]) addGrad(n.inputs[i]!, g);
      else P.release(g);
    });
    dv.delete(n.name);
    if (dy !== dOut) P.release(dy);
  }
  return { grads, dInput: dv.get(graph.input) ?? null, captured };
}
