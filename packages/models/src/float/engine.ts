/**
 * The float32 engine: forward (inference or training, with optional patch ReLUs from a spec) and
 * backward over a graph. Parameters are a Map from `${node}.${param}` to Float32Array.
 * @module
 */
import { patchReluF32, kindOf, type PatchSize } from '@si/patch-relu';
import type { Graph, Node } from '../graph.ts';
import * as ops from './ops.ts';

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
}

export interface Trace {
  graph: Graph;
  N: number;
  values: Map<string, Float32Array>;
  caches: Map<string, unknown>;
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

function usesOf(graph: Graph): Map<string, number> {
  const last = new Map<string, number>();
  graph.nodes.forEach((n, i) => n.inputs.forEach((x) => last.set(x, i)));
  return last;
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
  if (x.length !== N * size(graph.inputShape)) throw new RangeError(`input has ${x.length} values, expected ${N} x [${graph.inputShape.join(',')}]`);
  const values = new Map<string, Float32Array>(), caches = new Map<string, unknown>();
  const captured = new Map<string, Float32Array>();
  const want = new Set(opts.capture ?? []);
  const last = usesOf(graph);
  graph.nodes.forEach((n, idx) => {
    const inp = (i = 0) => values.get(n.inputs[i]!)!;
    const inShape = n.inputs[0] ? graph.node(n.inputs[0]).shape : [];
    let y: Float32Array;
    switch (n.op) {
      case 'input':
        y = x;
        break;
      case 'conv':
        y = ops.convForward(inp(), full(N, inShape), param(params, `${n.name}.weight`), [n.out, inShape[0]! / n.groups, ...n.kernel], n, n.bias ? param(params, `${n.name}.bias`) : undefined);
        break;
      case 'batchnorm': {
        const [C] = inShape as [number];
        const P = size(inShape) / C;
        const r = ops.bnForward(inp(), N, C, P, param(params, `${n.name}.weight`), param(params, `${n.name}.bias`), param(params, `${n.name}.running_mean`), param(params, `${n.name}.running_var`), n.eps, n.momentum, training);
        y = r.y;
        if (keep && r.cache) caches.set(n.name, r.cache);
        break;
      }
      case 'relu':
      case 'relu6': {
        const sizes = opts.spec?.[n.layer];
        if (!isPlain(sizes)) {
          if (n.op === 'relu6') throw new Error(`layer "${n.layer}" is a ReLU6: patch sizes need a plain ReLU`);
          const r = patchReluF32(inp(), full(N, inShape), sizes!);
          y = r.y;
          if (keep) caches.set(n.name, r.mask);
        } else {
          const r = ops.reluForward(inp(), n.op === 'relu6' ? 6 : Infinity);
          y = r.y;
          if (keep) caches.set(n.name, r.mask);
        }
        break;
      }
      case 'add': {
        const a = inp(0), b = inp(1);
        y = new Float32Array(a.length);
        for (let i = 0; i < a.length; i++) y[i] = a[i]! + b[i]!;
        break;
      }
      case 'avgpool':
        y = ops.avgPoolForward(inp(), poolGeom(N, inShape, n.shape, n.kernel, n.stride, n.padding), n.countIncludePad);
        break;
      case 'maxpool': {
        const r = ops.maxPoolForward(inp(), poolGeom(N, inShape, n.shape, n.kernel, n.stride, n.padding));
        y = r.y;
        if (keep) caches.set(n.name, r.arg);
        break;
      }
      case 'gap': {
        const [C] = inShape as [number];
        const P = size(inShape) / C, src = inp();
        y = new Float32Array(N * C);
        for (let i = 0; i < N * C; i++) {
          let s = 0;
          for (let p = 0; p < P; p++) s += src[i * P + p]!;
          y[i] = s / P;
        }
        break;
      }
      case 'flatten':
        y = inp();
        break;
      case 'linear':
        y = ops.linearForward(inp(), N, inShape[0]!, param(params, `${n.name}.weight`), n.out, n.bias ? param(params, `${n.name}.bias`) : undefined);
        break;
      case 'resize': {
        const [C, H, W] = inShape as [number, number, number];
        y = ops.resizeForward(inp(), N * C, H, W, n.size[0], n.size[1], n.mode);
        break;
      }
      case 'concat': {
        const P = n.shape[1]! * n.shape[2]!;
        y = new Float32Array(N * size(n.shape));
        for (let b = 0; b < N; b++) {
          let off = b * n.shape[0]! * P;
          for (const name of n.inputs) {
            const len = graph.node(name).shape[0]! * P;
            y.set(values.get(name)!.subarray(b * len, (b + 1) * len), off);
            off += len;
          }
        }
        break;
      }
    }
    values.set(n.name, y);
    if (want.has(n.name)) captured.set(n.name, y);
    if (!keep) for (const i of n.inputs) if (last.get(i) === idx && i !== graph.output && !want.has(i)) values.delete(i);
  });
  return { out: values.get(graph.output)!, captured, trace: { graph, N, values, caches } };
}

/**
 * Gradients of a scalar loss with respect to every parameter (and the input), given dLoss/dOutput.
 * Needs a trace from forward(..., { keep: true }) (training forward keeps by default).
 */
export function backward(trace: Trace, params: Params, dOut: Float32Array, wantInput = false): { grads: Params; dInput: Float32Array | null } {
  const { graph, N, values, caches } = trace;
  const grads: Params = new Map();
  const dv = new Map<string, Float32Array>();
  const addGrad = (name: string, g: Float32Array): void => {
    const have = dv.get(name);
    if (!have) dv.set(name, g);
    else for (let i = 0; i < g.length; i++) have[i]! += g[i]!;
  };
  dv.set(graph.output, dOut);
  for (let idx = graph.nodes.length - 1; idx >= 0; idx--) {
    const n: Node = graph.nodes[idx]!;
    const dy = dv.get(n.name);
    if (!dy || n.op === 'input') continue;
    const inShape = n.inputs[0] ? graph.node(n.inputs[0]).shape : [];
    const x = () => {
      const v = values.get(n.inputs[0]!);
      if (!v) throw new Error(`backward: the output of "${n.inputs[0]}" was not kept; run forward with { keep: true }`);
      return v;
    };
    const needDx = graph.node(n.inputs[0]!).op !== 'input' || wantInput;
    switch (n.op) {
      case 'conv': {
        const r = ops.convBackward(dy, x(), full(N, inShape), param(params, `${n.name}.weight`), [n.out, inShape[0]! / n.groups, ...n.kernel], n, needDx, n.bias);
        grads.set(`${n.name}.weight`, r.dw);
        if (r.db) grads.set(`${n.name}.bias`, r.db);
        if (r.dx) addGrad(n.inputs[0]!, r.dx);
        break;
      }
      case 'batchnorm': {
        const cache = caches.get(n.name) as ops.BnCache | undefined;
        if (!cache) throw new Error(`backward through "${n.name}" needs a training-mode forward`);
        const [C] = inShape as [number];
        const r = ops.bnBackward(dy, cache, N, C, size(inShape) / C, param(params, `${n.name}.weight`));
        grads.set(`${n.name}.weight`, r.dgamma);
        grads.set(`${n.name}.bias`, r.dbeta);
        addGrad(n.inputs[0]!, r.dx);
        break;
      }
      case 'relu':
      case 'relu6':
        addGrad(n.inputs[0]!, ops.maskBackward(dy, caches.get(n.name) as Uint8Array));
        break;
      case 'add':
        addGrad(n.inputs[0]!, dy.slice());
        addGrad(n.inputs[1]!, dy.slice());
        break;
      case 'avgpool':
        addGrad(n.inputs[0]!, ops.avgPoolBackward(dy, poolGeom(N, inShape, n.shape, n.kernel, n.stride, n.padding), n.countIncludePad));
        break;
      case 'maxpool':
        addGrad(n.inputs[0]!, ops.maxPoolBackward(dy, caches.get(n.name) as Int32Array, N * size(inShape)));
        break;
      case 'gap': {
        const [C] = inShape as [number];
        const P = size(inShape) / C;
        const g = new Float32Array(N * C * P);
        for (let i = 0; i < N * C; i++) g.fill(dy[i]! / P, i * P, (i + 1) * P);
        addGrad(n.inputs[0]!, g);
        break;
      }
      case 'flatten':
        addGrad(n.inputs[0]!, dy.slice());
        break;
      case 'linear': {
        const r = ops.linearBackward(dy, x(), N, inShape[0]!, param(params, `${n.name}.weight`), n.out, n.bias);
        grads.set(`${n.name}.weight`, r.dw);
        if (r.db) grads.set(`${n.name}.bias`, r.db);
        addGrad(n.inputs[0]!, r.dx);
        break;
      }
      case 'resize': {
        const [C, H, W] = inShape as [number, number, number];
        addGrad(n.inputs[0]!, ops.resizeBackward(dy, N * C, H, W, n.size[0], n.size[1], n.mode));
        break;
      }
      case 'concat': {
        const P = n.shape[1]! * n.shape[2]!;
        let off = 0;
        for (const name of n.inputs) {
          const c = graph.node(name).shape[0]!;
          const g = new Float32Array(N * c * P);
          for (let b = 0; b < N; b++) g.set(dy.subarray(b * n.shape[0]! * P + off * P, b * n.shape[0]! * P + (off + c) * P), b * c * P);
          addGrad(name, g);
          off += c;
        }
        break;
      }
    }
    dv.delete(n.name);
  }
  return { grads, dInput: dv.get(graph.input) ?? null };
}
