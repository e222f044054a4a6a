/**
 * The graph IR for CNNs. A graph is a list of named nodes in execution order; each node reads the
 * outputs of earlier nodes by name. Shapes are per image ([C, H, W] or [F]); the batch is dynamic.
 * Parameters live outside the graph, keyed `${node}.${param}` (conv: weight, bias; batchnorm: weight,
 * bias, running_mean, running_var; linear: weight, bias).
 *
 * Node kinds come from the op table (ops/): each op file adds its attributes to `OpTypes` and defines
 * its shape rule, parameters, float forward/backward, fixed-point and secure semantics in one place.
 * Every ReLU-like node (relu, relu6) has a stable `layer` name: the key of patch specs.
 * @module
 */
import { opDef } from './ops/table.ts';

/** A graph that is not well formed: a duplicate or unknown node, or shapes that do not fit. */
export class GraphError extends Error {
  override readonly name = 'GraphError';
}

export type Shape = readonly number[];

/**
 * The attributes of each node kind, by op name. Op files add their kind by module augmentation
 * (`declare module '../graph.ts' { interface OpTypes { relu6: { layer: string } } }`).
 */
export interface OpTypes {
  input: Record<never, never>;
}

export type OpName = keyof OpTypes;

/** A node of kind K: its name, inputs, per-image output shape and attributes. */
export type NodeOf<K extends OpName> = { name: string; inputs: string[]; shape: Shape; op: K } & OpTypes[K];

export type Node = { [K in OpName]: NodeOf<K> }[OpName];

/** A parameter a node needs: name and shape. */
export interface ParamSpec {
  name: string;
  shape: number[];
  kind: 'weight' | 'bias' | 'bn_weight' | 'bn_bias' | 'bn_mean' | 'bn_var';
}

export interface ReluLayer {
  name: string;
  node: string;
  op: OpName;
  channels: number;
  H: number;
  W: number;
  relus: number;
  /** The node also clips above, per pixel (ReLU6, Clip(0, t)): its DReLUs include those upper clips. */
  clipped: boolean;
}

export class Graph {
  readonly byName: ReadonlyMap<string, Node>;
  constructor(readonly name: string, readonly nodes: readonly Node[], readonly input: string, readonly output: string) {
    const m = new Map<string, Node>();
    for (const n of nodes) {
      if (m.has(n.name)) throw new GraphError(`graph ${name}: duplicate node name "${n.name}"`);
      for (const i of n.inputs) if (!m.has(i)) throw new GraphError(`graph ${name}: node "${n.name}" reads "${i}" before it is defined`);
      m.set(n.name, n);
    }
    if (!m.has(output)) throw new GraphError(`graph ${name}: output "${output}" is not a node`);
    this.byName = m;
  }

  node(name: string): Node {
    const n = this.byName.get(name);
    if (!n) throw new GraphError(`graph ${this.name} has no node "${name}"`);
    return n;
  }

  get inputShape(): Shape {
    return this.node(this.input).shape;
  }

  get outputShape(): Shape {
    return this.node(this.output).shape;
  }

  /** The per-image shapes of a node's inputs. */
  inputShapes(n: Node): Shape[] {
    return n.inputs.map((i) => this.node(i).shape);
  }

  /** The nodes that read a node's output. */
  consumers(name: string): Node[] {
    return this.nodes.filter((n) => n.inputs.includes(name));
  }

  /** All ReLU layers in order, with channel count, map size and ReLU count per image. */
  reluLayers(): ReluLayer[] {
    const out: ReluLayer[] = [];
    for (const n of this.nodes) {
      const layer = opDef(n.op).layer?.(n as never);
      if (layer === undefined) continue;
      const [C, H, W] = n.shape.length === 3 ? (n.shape as [number, number, number]) : [n.shape[0]!, 1, 1];
      out.push({ name: layer, node: n.name, op: n.op, channels: C, H, W, relus: C * H * W, clipped: opDef(n.op).clipped === true });
    }
    return out;
  }

  /** Parameters every node needs, in node order. */
  params(): ParamSpec[] {
    return this.nodes.flatMap((n) => opDef(n.op).params?.(n as never, this.inputShapes(n)) ?? []);
  }

  /** Total ReLUs per image. */
  reluCount(): number {
    return this.reluLayers().reduce((s, l) => s + l.relus, 0);
  }
}

const pair = (v: number | [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : v);

/** Builds a graph node by node, inferring shapes with each op's rule and checking them as it goes. */
export class GraphBuilder {
  private readonly nodes: Node[] = [];
  private readonly shapes = new Map<string, Shape>();
  readonly input: string;

  constructor(readonly name: string, inputShape: Shape, inputName = 'input') {
    this.nodes.push({ name: inputName, inputs: [], shape: [...inputShape], op: 'input' });
    this.shapes.set(inputName, [...inputShape]);
    this.input = inputName;
  }

  /**
   * Adds a node of any registered op; its shape comes from the op's rule.
   * @throws {GraphError} for a duplicate name, an unknown input or shapes that do not fit
   */
  node<K extends OpName>(op: K, name: string, inputs: readonly string[], attrs: OpTypes[K]): string {
    if (this.shapes.has(name)) throw new GraphError(`graph ${this.name}: duplicate node name "${name}"`);
    const ins = inputs.map((i) => this.shape(i));
    const shape = opDef(op).shape(attrs as never, ins, name);
    this.nodes.push({ name, inputs: [...inputs], shape, op, ...attrs } as Node);
    this.shapes.set(name, shape);
    return name;
  }

  shape(x: string): Shape {
    const s = this.shapes.get(x);
    if (!s) throw new GraphError(`graph ${this.name}: no node "${x}"`);
    return s;
  }

  conv(name: string, x: string, o: { out: number; kernel: number | [number, number]; stride?: number | [number, number]; padding?: number | [number, number] | [number, number, number, number]; dilation?: number | [number, number]; groups?: number; bias?: boolean }): string {
    const p = o.padding ?? 0;
    const padding: [number, number, number, number] =
      typeof p === 'number' ? [p, p, p, p] : p.length === 2 ? [p[0], p[1], p[0], p[1]] : [p[0], p[1], p[2], p[3]];
    return this.node('conv', name, [x], {
      out: o.out, kernel: pair(o.kernel), stride: pair(o.stride ?? 1), padding, dilation: pair(o.dilation ?? 1), groups: o.groups ?? 1, bias: o.bias ?? false,
    });
  }

  batchnorm(name: string, x: string, eps = 1e-5, momentum = 0.1): string {
    return this.node('batchnorm', name, [x], { eps, momentum });
  }

  /** A ReLU (or, with `six`, a ReLU6) named `layer` in patch specs. */
  relu(name: string, x: string, layer: string, six = false): string {
    return six ? this.node('relu6', name, [x], { layer }) : this.node('relu', name, [x], { layer });
  }

  add(name: string, a: string, b: string): string {
    return this.node('add', name, [a, b], {});
  }

  pool(name: string, x: string, kind: 'avgpool' | 'maxpool', kernel: number, stride = kernel, padding = 0, countIncludePad = true): string {
    return kind === 'avgpool'
      ? this.node('avgpool', name, [x], { kernel, stride, padding, countIncludePad })
      : this.node('maxpool', name, [x], { kernel, stride, padding });
  }

  gap(name: string, x: string): string {
    return this.node('gap', name, [x], {});
  }

  flatten(name: string, x: string): string {
    return this.node('flatten', name, [x], {});
  }

  linear(name: string, x: string, out: number, bias = true): string {
    return this.node('linear', name, [x], { out, bias });
  }

  resize(name: string, x: string, size: [number, number], mode: 'bilinear' | 'nearest' = 'bilinear'): string {
    return this.node('resize', name, [x], { size, mode });
  }

  concat(name: string, xs: string[]): string {
    return this.node('concat', name, xs, {});
  }

  /** conv (no bias) + batchnorm + optional ReLU (ReLU6 with `six`) named `layer`. */
  convBn(name: string, x: string, o: Parameters<GraphBuilder['conv']>[2], relu?: string, six = false): string {
    const y = this.batchnorm(`${name}.bn`, this.conv(`${name}.conv`, x, o));
    return relu ? this.relu(`${name}.relu`, y, relu, six) : y;
  }

  build(output: string): Graph {
    return new Graph(this.name, this.nodes, this.input, output);
  }
}
