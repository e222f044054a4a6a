/**
 * The float32 engine: forward (inference or training, with optional patch ReLUs from a spec) and
 * backward over a graph. Parameters are a Map from `${node}.${param}` to Float32Array.
 * @module
 */
import { patchReluF32, kindOf, type PatchSize } from '@si/patch-relu';
import type { Graph, Node } from '../graph.ts';
import * as ops from './ops.ts';
import { defaultPool, type BufferPool } from './pool.ts';

export type Params = Map<string, Float32Array>;

/** Patch sizes per ReLU layer (a spec's `layers`). Layers not listed are plain ReLUs. */
export type LayerSizes = Readonly<Record<string, readonly PatchSize[]>>;

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

function param(params: Params, name: string): Float32Array {
  const p = params.get(name);
  if (!p) throw new Error(`missing parameter "${name}"`);
  return p;
}

const full = (N: number, shape: readonly number[]): number[] => [N, ...shape];
const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

function poolGeom(N: number, inShape: readonly number[], outShape: readonly number[], k: number, s: number, p: number): ops.PoolGeom {
  const [C, H, W] = inShape as [number, number, number];
  return { N, C, H, W, OH: outShape[1]!, OW: outShape[2]!, k, s, p };
}

function usesOf(graph: Graph, run?: ReadonlySet<string>): Map<string, number> {
  const last = new Map<string, number>();
  graph.nodes.forEach((n, i) => (!run || run.has(n.name)) && n.inputs.forEach((x) => last.set(x, i)));
  return last;
}

/** The nodes the output depends on when the given nodes' values are known. */
function toRun(graph: Graph, given: ReadonlyMap<string, Float32Array>): Set<string> {
  const run = new Set<string>();
  const stack = [graph.output];
  while (stack.length) {
    const name = stack.pop()!;
    if (run.has(name)) continue;
    run.add(name);
    if (!given.has(name)) stack.push(...graph.node(name).inputs);
  }
  return run;
}

function isPlain(sizes: readonly PatchSize[] | undefined): boolean {
  return sizes === undefined || sizes.every((s) => kindOf(s) === 'relu');
}

/**
 * Runs the graph on a batch x [N, ...inputShape].
 * @returns the output [N, ...outputShape], the captured node outputs, and the trace backward needs
 */
export function forward(graph: Graph, params: Params, x: Float32Array, N: number, opts: ForwardOptions = {}): { out: Float32Array; captured: Map<string, Float32Array>; trace: Trace } {
  const training = !!opts.training, keep = opts.keep ?? training;
  const P = opts.pool ?? defaultPool;
  if (x.length !== N * size(graph.inputShape)) throw new RangeError(`input has ${x.length} values, expected ${N} x [${graph.inputShape.join(',')}]`);
  const values = new Map<string, Float32Array>(), caches = new Map<string, unknown>();
  const captured = new Map<string, Float32Array>();
  const want = new Set(opts.capture ?? []);
  const given = opts.given;
  const run = given ? toRun(graph, given) : undefined;
  const last = usesOf(graph, run);
  graph.nodes.forEach((n, idx) => {
    if (run && !run.has(n.name)) return;
    const g = given?.get(n.name);
    if (g) {
      if (g.length !== N * size(n.shape)) throw new RangeError(`given value of "${n.name}" has ${g.length} values, expected ${N} x [${n.shape.join(',')}]`);
      values.set(n.name, g);
      if (want.has(n.name)) captured.set(n.name, g);
      return;
    }
    const inp = (i = 0) => values.get(n.inputs[i]!)!;
    const inShape = n.inputs[0] ? graph.node(n.inputs[0]).shape : [];
    let y: Float32Array;
    switch (n.op) {
      case 'input':
        y = x;
        break;
      case 'conv':
        y = ops.convForward(P, inp(), full(N, inShape), param(params, `${n.name}.weight`), [n.out, inShape[0]! / n.groups, ...n.kernel], n, N * size(n.shape), n.bias ? param(params, `${n.name}.bias`) : undefined);
        break;
      case 'batchnorm': {
        const [C] = inShape as [number];
        const r = ops.bnForward(P, inp(), N, C, size(inShape) / C, param(params, `${n.name}.weight`), param(params, `${n.name}.bias`), param(params, `${n.name}.running_mean`), param(params, `${n.name}.running_var`), n.eps, n.momentum, training);
        y = r.y;
        if (keep && r.cache) caches.set(n.name, r.cache);
        break;
      }
      case 'relu':
      case 'relu6': {
        const sizes = opts.spec?.[n.layer];
        if (!isPlain(sizes)) {
          if (n.op === 'relu6') throw new Error(`layer "${n.layer}" is a ReLU6: patch sizes need a plain ReLU`);
          const r = patchReluF32(inp(), inShape.length === 1 ? [N, inShape[0]!, 1, 1] : full(N, inShape), sizes!);
          y = r.y;
          if (keep) caches.set(n.name, r.mask);
        } else {
          const r = ops.reluForward(P, inp(), n.op === 'relu6' ? 6 : Infinity);
          y = r.y;
          if (keep) caches.set(n.name, r.mask);
        }
        break;
      }
      case 'add': {
        const a = inp(0), b = inp(1);
        y = P.f32(a.length);
        for (let i = 0; i < a.length; i++) y[i] = a[i]! + b[i]!;
        break;
      }
      case 'avgpool':
        y = ops.avgPoolForward(P, inp(), poolGeom(N, inShape, n.shape, n.kernel, n.stride, n.padding), n.countIncludePad);
        break;
      case 'maxpool': {
        const r = ops.maxPoolForward(P, inp(), poolGeom(N, inShape, n.shape, n.kernel, n.stride, n.padding));
        y = r.y;
        if (keep) caches.set(n.name, r.arg);
        break;
      }
      case 'gap': {
        const [C] = inShape as [number];
        const HW = size(inShape) / C, src = inp();
        y = P.f32(N * C);
        for (let i = 0; i < N * C; i++) {
          let s = 0;
          for (let p = 0; p < HW; p++) s += src[i * HW + p]!;
          y[i] = s / HW;
        }
        break;
      }
      case 'flatten':
        y = P.f32(inp().length);
        y.set(inp());
        break;
      case 'linear':
        y = ops.linearForward(P, inp(), N, inShape[0]!, param(params, `${n.name}.weight`), n.out, n.bias ? param(params, `${n.name}.bias`) : undefined);
        break;
      case 'resize': {
        const [C, H, W] = inShape as [number, number, number];
        y = ops.resizeForward(P, inp(), N * C, H, W, n.size[0], n.size[1], n.mode);
        break;
      }
      case 'concat': {
        const HW = n.shape[1]! * n.shape[2]!;
        y = P.f32(N * size(n.shape));
        for (let b = 0; b < N; b++) {
          let off = b * n.shape[0]! * HW;
          for (const name of n.inputs) {
            const len = graph.node(name).shape[0]! * HW;
            y.set(values.get(name)!.subarray(b * len, (b + 1) * len), off);
            off += len;
          }
        }
        break;
      }
    }
    values.set(n.name, y);
    if (want.has(n.name)) captured.set(n.name, y);
    if (!keep) for (const i of n.inputs) if (last.get(i) === idx && i !== graph.output && !want.has(i) && i !== graph.input && !given?.has(i)) {
      P.release(values.get(i));
      values.delete(i);
    }
  });
  const out = values.get(graph.output)!;
  const held = new Set<ArrayBufferView>([out, ...captured.values(), ...(given?.values() ?? [])]);
  return { out, captured, trace: { graph, N, values, caches, pool: P, held } };
}

/**
 * Gradients of a scalar loss with respect to every parameter (and the input), given dLoss/dOutput.
 * Needs a trace from forward(..., { keep: true }) (training forward keeps by default).
 */
export function backward(trace: Trace, params: Params, dOut: Float32Array, wantInput = false, capture: readonly string[] = []): { grads: Params; dInput: Float32Array | null; captured: Map<string, Float32Array> } {
  const { graph, N, values, caches } = trace;
  const P = trace.pool;
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
  const copy = (a: Float32Array): Float32Array => {
    const c = P.f32(a.length);
    c.set(a);
    return c;
  };
  dv.set(graph.output, dOut);
  for (let idx = graph.nodes.length - 1; idx >= 0; idx--) {
    const n: Node = graph.nodes[idx]!;
    const dy = dv.get(n.name);
    if (!dy || n.op === 'input') continue;
    if (want.has(n.name)) captured.set(n.name, Float32Array.from(dy));
    const inShape = n.inputs[0] ? graph.node(n.inputs[0]).shape : [];
    const x = () => {
      const v = values.get(n.inputs[0]!);
      if (!v) throw new Error(`backward: the output of "${n.inputs[0]}" was not kept; run forward with { keep: true }`);
      return v;
    };
    const needDx = graph.node(n.inputs[0]!).op !== 'input' || wantInput;
    switch (n.op) {
      case 'conv': {
        const r = ops.convBackward(P, dy, x(), full(N, inShape), param(params, `${n.name}.weight`), [n.out, inShape[0]! / n.groups, ...n.kernel], n, needDx, n.bias);
        grads.set(`${n.name}.weight`, r.dw);
        if (r.db) grads.set(`${n.name}.bias`, r.db);
        if (r.dx) addGrad(n.inputs[0]!, r.dx);
        break;
      }
      case 'batchnorm': {
        const cache = caches.get(n.name) as ops.BnCache | undefined;
        const [C] = inShape as [number];
        if (!cache) {
          // Inference mode: a fixed per-channel affine map, y = gamma (x - mean) / sqrt(var + eps) + beta;
          // the input gradient only (its parameters get none).
          addGrad(n.inputs[0]!, bnAffineBackward(P, dy, N, C, size(inShape) / C, param(params, `${n.name}.weight`), param(params, `${n.name}.running_var`), n.eps));
          break;
        }
        const r = ops.bnBackward(P, dy, cache, N, C, size(inShape) / C, param(params, `${n.name}.weight`));
        grads.set(`${n.name}.weight`, r.dgamma);
        grads.set(`${n.name}.bias`, r.dbeta);
        addGrad(n.inputs[0]!, r.dx);
        break;
      }
      case 'relu':
      case 'relu6':
        addGrad(n.inputs[0]!, ops.maskBackward(P, dy, caches.get(n.name) as Uint8Array));
        break;
      case 'add':
        addGrad(n.inputs[0]!, copy(dy));
        addGrad(n.inputs[1]!, copy(dy));
        break;
      case 'avgpool':
        addGrad(n.inputs[0]!, ops.avgPoolBackward(P, dy, poolGeom(N, inShape, n.shape, n.kernel, n.stride, n.padding), n.countIncludePad));
        break;
      case 'maxpool':
        addGrad(n.inputs[0]!, ops.maxPoolBackward(P, dy, caches.get(n.name) as Int32Array, N * size(inShape)));
        break;
      case 'gap': {
        const [C] = inShape as [number];
        const HW = size(inShape) / C;
        const g = P.f32(N * C * HW);
        for (let i = 0; i < N * C; i++) g.fill(dy[i]! / HW, i * HW, (i + 1) * HW);
        addGrad(n.inputs[0]!, g);
        break;
      }
      case 'flatten':
        addGrad(n.inputs[0]!, copy(dy));
        break;
      case 'linear': {
        const r = ops.linearBackward(P, dy, x(), N, inShape[0]!, param(params, `${n.name}.weight`), n.out, n.bias);
        grads.set(`${n.name}.weight`, r.dw);
        if (r.db) grads.set(`${n.name}.bias`, r.db);
        addGrad(n.inputs[0]!, r.dx);
        break;
      }
      case 'resize': {
        const [C, H, W] = inShape as [number, number, number];
        addGrad(n.inputs[0]!, ops.resizeBackward(P, dy, N * C, H, W, n.size[0], n.size[1], n.mode));
        break;
      }
      case 'concat': {
        const HW = n.shape[1]! * n.shape[2]!;
        let off = 0;
        for (const name of n.inputs) {
          const c = graph.node(name).shape[0]!;
          const g = P.f32(N * c * HW);
          for (let b = 0; b < N; b++) g.set(dy.subarray(b * n.shape[0]! * HW + off * HW, b * n.shape[0]! * HW + (off + c) * HW), b * c * HW);
          addGrad(name, g);
          off += c;
        }
        break;
      }
    }
    dv.delete(n.name);
    if (dy !== dOut) P.release(dy);
  }
  return { grads, dInput: dv.get(graph.input) ?? null, captured };
}

function bnAffineBackward(P: BufferPool, dy: Float32Array, N: number, C: number, HW: number, gamma: Float32Array, variance: Float32Array, eps: number): Float32Array {
  const dx = P.f32(dy.length);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const k = gamma[c]! / Math.sqrt(variance[c]! + eps), o = (n * C + c) * HW;
      for (let p = 0; p < HW; p++) dx[o + p] = dy[o + p]! * k;
    }
  }
  return dx;
}
