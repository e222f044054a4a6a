/**
 * Fixed-point compilation of a float graph for secure inference.
 *
 * - Batch norm is folded into the convolution before it (every batch norm must follow a conv).
 * - Activations carry f fractional bits. A conv or linear layer multiplies by weights encoded at f bits,
 *   so its product has 2f; it is truncated by f and the bias (encoded at f bits) is added.
 * - Average pooling and global average pooling sum locally and multiply by round(2^f / count) (public),
 *   then truncate by f; a resize from a 1x1 map is a broadcast (exact).
 * - ReLU layers may become patch ReLUs (a spec); ReLU6 is refused (it needs two comparisons: use ReLU).
 * The compiled model keeps the float graph as its public architecture; the encoded weights are the
 * server's secret.
 * @module
 */
import { encodeFixed, RingTensor } from '@si/ring';
import type { Graph, Node } from '../graph.ts';
import type { Params } from '../float/engine.ts';

export interface FixedLayer {
  /** conv: [O, C/g, kh, kw]; linear: [in, out] (transposed for x W). */
  weight: RingTensor;
  /** [O] at f bits, or null. */
  bias: RingTensor | null;
}

export interface FixedModel {
  graph: Graph;
  /** Fractional bits of activations and weights. */
  f: number;
  /** Encoded weights per conv/linear node (the server's; empty in a public view). */
  layers: Map<string, FixedLayer>;
  /** Batch-norm nodes folded into the conv before them (they compute nothing). */
  folded: Set<string>;
}

export class CompileError extends Error {
  override readonly name = 'CompileError';
}

/** Nodes a secure run supports, with the reason when not. */
export function checkSecureSupport(graph: Graph): void {
  for (const n of graph.nodes) {
    if (n.op === 'relu6') throw new CompileError(`node "${n.name}" is a ReLU6: secure inference compares once per activation; use a ReLU (as the paper does for MobileNetV2)`);
    if (n.op === 'resize') {
      const [, H, W] = graph.node(n.inputs[0]!).shape as [number, number, number];
      if (!(H === 1 && W === 1) && n.mode !== 'nearest') throw new CompileError(`node "${n.name}": bilinear resize is only supported from a 1x1 map (a broadcast) in secure inference`);
    }
    if (n.op === 'batchnorm' && graph.node(n.inputs[0]!).op !== 'conv') throw new CompileError(`node "${n.name}": batch norm must follow a convolution to be folded`);
  }
}

function consumers(graph: Graph, name: string): Node[] {
  return graph.nodes.filter((n) => n.inputs.includes(name));
}

/**
 * Folds batch norms and encodes weights at f fractional bits.
 * @throws {CompileError} for nodes secure inference does not support, naming the node
 */
export function compileFixed(graph: Graph, params: Params, f = 12): FixedModel {
  checkSecureSupport(graph);
  const layers = new Map<string, FixedLayer>(), folded = new Set<string>();
  const get = (k: string): Float32Array => {
    const v = params.get(k);
    if (!v) throw new CompileError(`missing parameter "${k}"`);
    return v;
  };
  for (const n of graph.nodes) {
    if (n.op === 'conv') {
      let w = Float64Array.from(get(`${n.name}.weight`));
      let b = n.bias ? Float64Array.from(get(`${n.name}.bias`)) : new Float64Array(n.out);
      const next = consumers(graph, n.name);
      if (next.length === 1 && next[0]!.op === 'batchnorm') {
        const bn = next[0]! as Extract<Node, { op: 'batchnorm' }>;
        const g = get(`${bn.name}.weight`), beta = get(`${bn.name}.bias`), mean = get(`${bn.name}.running_mean`), v = get(`${bn.name}.running_var`);
        const per = w.length / n.out;
        for (let o = 0; o < n.out; o++) {
          const s = g[o]! / Math.sqrt(v[o]! + bn.eps);
          for (let i = 0; i < per; i++) w[o * per + i]! *= s;
          b[o] = (b[o]! - mean[o]!) * s + beta[o]!;
        }
        folded.add(bn.name);
      }
      layers.set(n.name, { weight: encodeFixed(w, f, [n.out, w.length / n.out / (n.kernel[0] * n.kernel[1]), ...n.kernel]), bias: encodeFixed(b, f) });
    } else if (n.op === 'linear') {
      const w = get(`${n.name}.weight`); // [out, in]
      const I = w.length / n.out;
      const wt = new Float64Array(w.length);
      for (let o = 0; o < n.out; o++) for (let i = 0; i < I; i++) wt[i * n.out + o] = w[o * I + i]!;
      layers.set(n.name, { weight: encodeFixed(wt, f, [I, n.out]), bias: n.bias ? encodeFixed(get(`${n.name}.bias`), f) : null });
    }
  }
  return { graph, f, layers, folded };
}

/** The public view of a compiled model (architecture and scale, no weights): what the client and helper hold. */
export function publicView(m: FixedModel): FixedModel {
  return { graph: m.graph, f: m.f, layers: new Map(), folded: m.folded };
}

/** The public view built from the architecture alone (the client and helper never see the weights). */
export function publicModel(graph: Graph, f = 12): FixedModel {
  checkSecureSupport(graph);
  const folded = new Set<string>();
  for (const n of graph.nodes) if (n.op === 'batchnorm') folded.add(n.name);
  return { graph, f, layers: new Map(), folded };
}

/** Public multiplier for averaging `count` values at f bits: round(2^f / count). */
export const averagingFactor = (f: number, count: number): number => Math.round(2 ** f / count);
