/**
 * The graph IR for CNNs. A graph is a list of named nodes in execution order; each node reads the
 * outputs of earlier nodes by name. Shapes are per image ([C, H, W] or [F]); the batch is dynamic.
 * Parameters live outside the graph, keyed `${node}.${param}` (conv: weight, bias; batchnorm: weight,
 * bias, running_mean, running_var; linear: weight, bias).
 *
 * Every ReLU-like node (relu, relu6) has a stable `layer` name: the key of patch specs.
 * @module
 */

/** A graph that is not well formed: a duplicate or unknown node, or shapes that do not fit. */
export class GraphError extends Error {
  override readonly name = 'GraphError';
}

export type Shape = readonly number[];

export interface ConvAttrs {
  out: number;
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number, number, number]; // top, left, bottom, right
  dilation: [number, number];
  groups: number;
  bias: boolean;
}

export type Op =
  | { op: 'input' }
  | ({ op: 'conv' } & ConvAttrs)
  | { op: 'batchnorm'; eps: number; momentum: number }
  | { op: 'relu'; layer: string }
  | { op: 'relu6'; layer: string }
  | { op: 'add' }
  | { op: 'avgpool'; kernel: number; stride: number; padding: number; countIncludePad: boolean }
  | { op: 'maxpool'; kernel: number; stride: number; padding: number }
  | { op: 'gap' }
  | { op: 'flatten' }
  | { op: 'linear'; out: number; bias: boolean }
  | { op: 'resize'; size: [number, number]; mode: 'bilinear' | 'nearest' }
  | { op: 'concat' };

export type Node = { name: string; inputs: string[]; shape: Shape } & Op;

/** A parameter a node needs: name and shape. */
export interface ParamSpec {
  name: string;
  shape: number[];
  kind: 'weight' | 'bias' | 'bn_weight' | 'bn_bias' | 'bn_mean' | 'bn_var';
}

export interface ReluLayer {
  name: string;
  node: string;
  channels: number;
  H: number;
  W: number;
  relus: number;
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

  /** All ReLU layers in order, with channel count, map size and ReLU count per image. */
  reluLayers(): ReluLayer[] {
    const out: ReluLayer[] = [];
    for (const n of this.nodes) {
      if (n.op !== 'relu' && n.op !== 'relu6') continue;
      const [C, H, W] = n.shape.length === 3 ? (n.shape as [number, number, number]) : [n.shape[0]!, 1, 1];
      out.push({ name: n.layer, node: n.name, channels: C, H, W, relus: C * H * W });
    }
    return out;
  }

  /** Parameters every node needs, in node order. */
  params(): ParamSpec[] {
    const out: ParamSpec[] = [];
    for (const n of this.nodes) {
      const src = n.inputs[0] ? this.node(n.inputs[0]).shape : [];
      if (n.op === 'conv') {
        out.push({ name: `${n.name}.weight`, shape: [n.out, src[0]! / n.groups, ...n.kernel], kind: 'weight' });
        if (n.bias) out.push({ name: `${n.name}.bias`, shape: [n.out], kind: 'bias' });
      } else if (n.op === 'batchnorm') {
        const C = src[0]!;
        out.push({ name: `${n.name}.weight`, shape: [C], kind: 'bn_weight' }, { name: `${n.name}.bias`, shape: [C], kind: 'bn_bias' });
        out.push({ name: `${n.name}.running_mean`, shape: [C], kind: 'bn_mean' }, { name: `${n.name}.running_var`, shape: [C], kind: 'bn_var' });
      } else if (n.op === 'linear') {
        out.push({ name: `${n.name}.weight`, shape: [n.out, src[0]!], kind: 'weight' });
        if (n.bias) out.push({ name: `${n.name}.bias`, shape: [n.out], kind: 'bias' });
      }
    }
    return out;
  }

  /** Total ReLUs per image. */
  reluCount(): number {
    return this.reluLayers().reduce((s, l) => s + l.relus, 0);
  }
}

const pair = (v: number | [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : v);

/** Builds a graph node by node, inferring shapes and checking them as it goes. */
export class GraphBuilder {
  private readonly nodes: Node[] = [];
  private readonly names = new Set<string>();
  readonly input: string;

  constructor(readonly name: string, inputShape: Shape, inputName = 'input') {
    this.input = this.push({ name: inputName, inputs: [], shape: [...inputShape], op: 'input' });
  }

  private push(n: Node): string {
    if (this.names.has(n.name)) throw new GraphError(`graph ${this.name}: duplicate node name "${n.name}"`);
    this.names.add(n.name);
    this.nodes.push(n);
    return n.name;
  }

  shape(x: string): Shape {
    const n = this.nodes.find((m) => m.name === x);
    if (!n) throw new GraphError(`graph ${this.name}: no node "${x}"`);
    return n.shape;
  }

  conv(name: string, x: string, o: { out: number; kernel: number | [number, number]; stride?: number | [number, number]; padding?: number | [number, number] | [number, number, number, number]; dilation?: number | [number, number]; groups?: number; bias?: boolean }): string {
    const [C, H, W] = this.shape(x) as [number, number, number];
    const kernel = pair(o.kernel), stride = pair(o.stride ?? 1), dilation = pair(o.dilation ?? 1), groups = o.groups ?? 1;
    const p = o.padding ?? 0;
    const padding: [number, number, number, number] =
      typeof p === 'number' ? [p, p, p, p] : p.length === 2 ? [p[0], p[1], p[0], p[1]] : [p[0], p[1], p[2], p[3]];
    if (C % groups !== 0 || o.out % groups !== 0) throw new GraphError(`${name}: groups ${groups} must divide ${C} input and ${o.out} output channels`);
    const OH = Math.floor((H + padding[0] + padding[2] - dilation[0] * (kernel[0] - 1) - 1) / stride[0]) + 1;
    const OW = Math.floor((W + padding[1] + padding[3] - dilation[1] * (kernel[1] - 1) - 1) / stride[1]) + 1;
    if (OH < 1 || OW < 1) throw new GraphError(`${name}: input ${H}x${W} is too small for the kernel`);
    return this.push({ name, inputs: [x], shape: [o.out, OH, OW], op: 'conv', out: o.out, kernel, stride, padding, dilation, groups, bias: o.bias ?? false });
  }

  batchnorm(name: string, x: string, eps = 1e-5, momentum = 0.1): string {
    return this.push({ name, inputs: [x], shape: this.shape(x), op: 'batchnorm', eps, momentum });
  }

  relu(name: string, x: string, layer: string, six = false): string {
    return this.push({ name, inputs: [x], shape: this.shape(x), op: six ? 'relu6' : 'relu', layer });
  }

  add(name: string, a: string, b: string): string {
    const sa = this.shape(a), sb = this.shape(b);
    if (sa.join() !== sb.join()) throw new GraphError(`${name}: cannot add [${sa}] and [${sb}]`);
    return this.push({ name, inputs: [a, b], shape: sa, op: 'add' });
  }

  pool(name: string, x: string, kind: 'avgpool' | 'maxpool', kernel: number, stride = kernel, padding = 0, countIncludePad = true): string {
    const [C, H, W] = this.shape(x) as [number, number, number];
    const OH = Math.floor((H + 2 * padding - kernel) / stride) + 1, OW = Math.floor((W + 2 * padding - kernel) / stride) + 1;
    if (OH < 1 || OW < 1) throw new GraphError(`${name}: input ${H}x${W} is too small for pooling ${kernel}`);
    const shape = [C, OH, OW];
    return kind === 'avgpool'
      ? this.push({ name, inputs: [x], shape, op: 'avgpool', kernel, stride, padding, countIncludePad })
      : this.push({ name, inputs: [x], shape, op: 'maxpool', kernel, stride, padding });
  }

  gap(name: string, x: string): string {
    const [C] = this.shape(x) as [number];
    return this.push({ name, inputs: [x], shape: [C, 1, 1], op: 'gap' });
  }

  flatten(name: string, x: string): string {
    return this.push({ name, inputs: [x], shape: [this.shape(x).reduce((a, b) => a * b, 1)], op: 'flatten' });
  }

  linear(name: string, x: string, out: number, bias = true): string {
    if (this.shape(x).length !== 1) throw new GraphError(`${name}: linear needs a flat input, got [${this.shape(x)}]`);
    return this.push({ name, inputs: [x], shape: [out], op: 'linear', out, bias });
  }

  resize(name: string, x: string, size: [number, number], mode: 'bilinear' | 'nearest' = 'bilinear'): string {
    const [C] = this.shape(x) as [number];
    return this.push({ name, inputs: [x], shape: [C, size[0], size[1]], op: 'resize', size, mode });
  }

  concat(name: string, xs: string[]): string {
    const shapes = xs.map((x) => this.shape(x));
    const [, H, W] = shapes[0] as [number, number, number];
    for (const s of shapes) if (s[1] !== H || s[2] !== W) throw new GraphError(`${name}: concat needs equal maps, got [${s}] and [${shapes[0]}]`);
    return this.push({ name, inputs: xs, shape: [shapes.reduce((a, s) => a + s[0]!, 0), H, W], op: 'concat' });
  }

  /** conv (no bias) + batchnorm + optional ReLU named `layer`. */
  convBn(name: string, x: string, o: Parameters<GraphBuilder['conv']>[2], relu?: string, six = false): string {
    const y = this.batchnorm(`${name}.bn`, this.conv(`${name}.conv`, x, o));
    return relu ? this.relu(`${name}.relu`, y, relu, six) : y;
  }

  build(output: string): Graph {
    return new Graph(this.name, this.nodes, this.input, output);
  }
}
