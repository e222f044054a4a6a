/**
 * The one graph walk: nodes in order, each given its inputs' values, each value dropped after its last
 * use. It is a generator, so the synchronous float engine and the asynchronous ring backends (twin,
 * simulation, secure run, cost) drive the same walk: the caller computes each yielded node's value and
 * passes it back.
 * @module
 */
import type { Graph, Node } from './graph.ts';

export interface WalkOptions<T> {
  /**
   * Node values known up front (e.g. cached clean activations, to rerun only the part of the network after
   * a changed layer). Nodes that only feed given nodes are not run. The caller keeps ownership of them.
   */
  given?: ReadonlyMap<string, T>;
  /** Values to keep past their last use (besides the output and given ones). */
  keep?: ReadonlySet<string>;
  /** Keep every value (backward reads them). */
  keepAll?: boolean;
  /** Called with a computed value the walk no longer needs (not the input, the output or given values). */
  release?(t: T): void;
}

export interface Step<T> {
  node: Node;
  index: number;
  inputs: T[];
}

/** The nodes the output depends on when the given nodes' values are known. */
function toRun(graph: Graph, given: ReadonlyMap<string, unknown>): Set<string> {
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

/**
 * Walks the graph on input `x`: yields each node to compute (not the input, not given nodes) with its
 * inputs' values and takes the node's value back.
 * @returns the values still held at the end (the output, kept and given values; everything with keepAll)
 */
export function* walk<T>(graph: Graph, x: T, o: WalkOptions<T> = {}): Generator<Step<T>, Map<string, T>, T> {
  const run = o.given ? toRun(graph, o.given) : undefined;
  const last = new Map<string, number>();
  graph.nodes.forEach((n, i) => (!run || run.has(n.name)) && n.inputs.forEach((s) => last.set(s, i)));
  const vals = new Map<string, T>();
  for (const [i, n] of graph.nodes.entries()) {
    if (run && !run.has(n.name)) continue;
    const given = o.given?.get(n.name);
    const y = given !== undefined ? given : n.op === 'input' ? x : yield { node: n, index: i, inputs: n.inputs.map((s) => vals.get(s)!) };
    vals.set(n.name, y);
    if (o.keepAll) continue;
    for (const s of n.inputs) {
      if (last.get(s) !== i || s === graph.output || o.keep?.has(s) || o.given?.has(s)) continue;
      const v = vals.get(s)!;
      vals.delete(s);
      if (s !== graph.input) o.release?.(v);
    }
  }
  return vals;
}

/** Drives the walk with a synchronous step. */
export function walkSync<T>(graph: Graph, x: T, step: (s: Step<T>) => T, o: WalkOptions<T> = {}): Map<string, T> {
  const it = walk(graph, x, o);
  for (let r = it.next(); ; ) {
    if (r.done) return r.value;
    r = it.next(step(r.value));
  }
}

/** Drives the walk with an asynchronous step. */
export async function walkAsync<T>(graph: Graph, x: T, step: (s: Step<T>) => T | Promise<T>, o: WalkOptions<T> = {}): Promise<Map<string, T>> {
  const it = walk(graph, x, o);
  for (let r = it.next(); ; ) {
    if (r.done) return r.value;
    r = it.next(await step(r.value));
  }
}
