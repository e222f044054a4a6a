/**
 * Fixed-point compilation of a float graph for secure inference: each op's compile step (conv and linear
 * encode their weights at f fractional bits; a conv folds the batch norm after it), after every op's
 * refuse check. Activations carry f fractional bits; products of two are truncated by f (the ops' ring
 * semantics). The compiled model keeps the float graph as its public architecture; the encoded weights
 * are the server's secret.
 * @module
 */
import type { Graph } from '../graph.ts';
import type { CompileCtx, FixedLayer, Params } from '../ops/op.ts';
import { opDef } from '../ops/table.ts';


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

/** Nodes a secure run supports. @throws {CompileError} naming the first node it does not, and why */
export function checkSecureSupport(graph: Graph): void {
  for (const n of graph.nodes) {
    const why = opDef(n.op).refuse?.(n as never, graph);
    if (why) throw new CompileError(why);
  }
}

/**
 * Folds batch norms and encodes weights at f fractional bits.
 * @throws {CompileError} for nodes secure inference does not support, naming the node, or a missing parameter
 */
export function compileFixed(graph: Graph, params: Params, f = 12): FixedModel {
  checkSecureSupport(graph);
  const c: CompileCtx = {
    graph, f, layers: new Map(), folded: new Set(),
    param(name) {
      const v = params.get(name);
      if (!v) throw new CompileError(`missing parameter "${name}"`);
      return v;
    },
  };
  for (const n of graph.nodes) opDef(n.op).compile?.(n as never, c);
  return { graph, f, layers: c.layers, folded: c.folded };
}

/** The public view of a compiled model (architecture and scale, no weights): what the client and helper hold. */
export function publicView(m: FixedModel): FixedModel {
  return { graph: m.graph, f: m.f, layers: new Map(), folded: m.folded };
}

/** The public view built from the architecture alone (the client and helper never see the weights). */
export function publicModel(graph: Graph, f = 12): FixedModel {
  checkSecureSupport(graph);
  return { graph, f, layers: new Map(), folded: new Set(graph.nodes.filter((n) => n.op === 'batchnorm').map((n) => n.name)) };
}
