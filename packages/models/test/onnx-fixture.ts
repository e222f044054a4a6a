// A hand-built ONNX file (the layout a PyTorch export produces), shared by the io tests and the fuzzer.
import { GraphBuilder, initParams, ProtobufWriter as W, type Graph, type Params } from '../src/index.ts';

function tensorProto(name: string, dims: number[], data: Float32Array): W {
  return new W().packedInts(1, dims).int(2, 1).string(8, name).bytes(9, new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)));
}
function attr(name: string, f: (w: W) => W): W {
  return f(new W().string(1, name));
}
const ints = (name: string, v: number[]) => attr(name, (w) => w.packedInts(8, v).int(20, 7));
const int = (name: string, v: number) => attr(name, (w) => w.int(3, v).int(20, 2));
const flt = (name: string, v: number) => attr(name, (w) => w.float(2, v).int(20, 1));
const strA = (name: string, v: string) => attr(name, (w) => w.string(4, v).int(20, 3));
export function nodeProto(op: string, name: string, inputs: string[], outputs: string[], attrs: W[] = []): W {
  const w = new W();
  for (const i of inputs) w.string(1, i);
  for (const o of outputs) w.string(2, o);
  w.string(3, name).string(4, op);
  for (const a of attrs) w.msg(5, a);
  return w;
}
function valueInfo(name: string, dims: (number | string)[]): W {
  const shape = new W();
  for (const d of dims) shape.msg(1, typeof d === 'number' ? new W().int(1, d) : new W().string(2, d));
  return new W().string(1, name).msg(2, new W().msg(1, new W().int(1, 1).msg(2, shape)));
}

/** A small net in ONNX form: Conv-BN-Relu, a residual Add, Clip (ReLU6), pools, Resize, Concat, GAP, Gemm. */
export function onnxModel(p: Params, opset = 13, extraNode?: W): Uint8Array {
  const g = new W();
  const nodes = [
    nodeProto('Conv', 'conv1', ['x', 'conv1.w'], ['c1'], [ints('kernel_shape', [3, 3]), ints('pads', [1, 1, 1, 1]), ints('strides', [1, 1])]),
    nodeProto('BatchNormalization', 'bn1', ['c1', 'bn1.s', 'bn1.b', 'bn1.m', 'bn1.v'], ['b1'], [flt('epsilon', 1e-5)]),
    nodeProto('Relu', 'relu1', ['b1'], ['r1']),
    nodeProto('Conv', 'conv2', ['r1', 'conv2.w', 'conv2.b'], ['c2'], [ints('kernel_shape', [3, 3]), ints('pads', [1, 1, 1, 1]), int('group', 2)]),
    nodeProto('Add', 'add', ['c2', 'r1'], ['a']),
    nodeProto('Clip', 'relu6', ['a', 'zero', 'six'], ['r6']),
    nodeProto('AveragePool', 'avg', ['r6'], ['p1'], [ints('kernel_shape', [3, 3]), ints('strides', [2, 2]), ints('pads', [1, 1, 1, 1]), int('count_include_pad', 1)]),
    nodeProto('MaxPool', 'max', ['r6'], ['p2'], [ints('kernel_shape', [2, 2]), ints('strides', [4, 4])]),
    nodeProto('Resize', 'up', ['p2', '', 'scales'], ['u'], [strA('mode', 'linear'), strA('coordinate_transformation_mode', 'half_pixel')]),
    nodeProto('Concat', 'cat', ['p1', 'u'], ['cc'], [int('axis', 1)]),
    nodeProto('GlobalAveragePool', 'gap', ['cc'], ['gp']),
    nodeProto('Flatten', 'flat', ['gp'], ['f'], [int('axis', 1)]),
    nodeProto('Gemm', 'fc', ['f', 'fc.w', 'fc.b'], ['y'], [int('transB', 1)]),
  ];
  if (extraNode) nodes.splice(3, 0, extraNode);
  for (const n of nodes) g.msg(1, n);
  g.string(2, 'tiny');
  const inits: [string, number[], Float32Array][] = [
    ['conv1.w', [4, 3, 3, 3], p.get('conv1.weight')!], ['bn1.s', [4], p.get('bn1.weight')!], ['bn1.b', [4], p.get('bn1.bias')!],
    ['bn1.m', [4], p.get('bn1.running_mean')!], ['bn1.v', [4], p.get('bn1.running_var')!], ['conv2.w', [4, 2, 3, 3], p.get('conv2.weight')!],
    ['conv2.b', [4], p.get('conv2.bias')!], ['zero', [], Float32Array.of(0)], ['six', [], Float32Array.of(6)], ['fc.w', [5, 8], p.get('fc.weight')!], ['fc.b', [5], p.get('fc.bias')!],
  ];
  for (const [n, d, v] of inits) g.msg(5, tensorProto(n, d, v));
  g.msg(5, tensorProto('scales', [4], Float32Array.of(1, 1, 2, 2)));
  g.msg(11, valueInfo('x', ['batch', 3, 8, 8]));
  g.msg(12, valueInfo('y', ['batch', 5]));
  return new W().int(1, 8).msg(8, new W().string(1, '').int(2, opset)).string(2, 'test').msg(7, g).finish();
}

/** The network of onnxModel written with the builder (the file upsamples its 2x2 max-pool output with scales 2). */
export function tinyNative(): Graph {
  const b = new GraphBuilder('tiny', [3, 8, 8]);
  const r1 = b.relu('relu1', b.batchnorm('bn1', b.conv('conv1', b.input, { out: 4, kernel: 3, padding: 1 })), 'relu1');
  const a = b.add('add', b.conv('conv2', r1, { out: 4, kernel: 3, padding: 1, groups: 2, bias: true }), r1);
  const r6 = b.relu('relu6', a, 'relu6', true);
  const p1 = b.pool('avg', r6, 'avgpool', 3, 2, 1, true);
  const u = b.resize('up', b.pool('max', r6, 'maxpool', 2, 4), [4, 4], 'bilinear');
  return b.build(b.linear('fc', b.flatten('flat', b.gap('gap', b.concat('cat', [p1, u]))), 5));
}

/** An ONNX file of tinyNative with seeded parameters (a valid input to mutate). */
export function onnxSample(seed: string | number = 3): Uint8Array {
  return onnxModel(initParams(tinyNative(), seed));
}

// --- exporter-shaped graphs (torch.onnx.export writes node names as module paths, Constant nodes for
// Clip's bounds and shape arithmetic, int64 shape tensors) --------------------------------------------

/** A TensorProto of int64 values. */
function int64Proto(name: string, dims: number[], data: number[]): W {
  const raw = new Uint8Array(8 * data.length);
  const dv = new DataView(raw.buffer);
  data.forEach((v, i) => dv.setBigInt64(8 * i, BigInt(v), true));
  return new W().packedInts(1, dims).int(2, 7).string(8, name).bytes(9, raw);
}

/** Builds an ONNX graph node by node, the way an exporter lays it out. */
export class OnnxGraph {
  private readonly g = new W();
  private n = 0;
  readonly params: Params = new Map();

  constructor(private readonly opset = 17) {}

  /** A float initializer named `name`. */
  init(name: string, dims: number[], data: Float32Array): string {
    this.g.msg(5, tensorProto(name, dims, data));
    return name;
  }

  /** A Constant node holding a float tensor (a scalar with dims []). */
  constant(dims: number[], data: number[], int64 = false): string {
    const out = `c${this.n++}`;
    const t = int64 ? int64Proto('', dims, data) : tensorProto('', dims, Float32Array.from(data));
    this.node('Constant', `/Constant_${this.n}`, [], [out], [attr('value', (w) => w.msg(5, t).int(20, 4))]);
    return out;
  }

  /** An int64 initializer (shapes, axes, pads). */
  ints(name: string, data: number[]): string {
    this.g.msg(5, int64Proto(name, [data.length], data));
    return name;
  }

  node(op: string, name: string, inputs: string[], outputs: string[] = [`t${this.n++}`], attrs: W[] = []): string {
    this.g.msg(1, nodeProto(op, name, inputs, outputs, attrs));
    return outputs[0]!;
  }

  /**
   * A Conv with seeded weights as torch exports module `key` under scope `scope` (e.g. key `layer1.0.conv1`,
   * scope `/layer1/layer1.0/conv1`: node `/layer1/layer1.0/conv1/Conv`, initializers `layer1.0.conv1.weight`
   * and, with `bias`, `.bias`).
   */
  conv([scope, path]: [string, string], x: string, cin: number, cout: number, k: number, rnd: () => number, o: { pad?: number; stride?: number; group?: number; bias?: boolean } = {}): string {
    const group = o.group ?? 1, pad = o.pad ?? 0, stride = o.stride ?? 1;
    const w = Float32Array.from({ length: cout * (cin / group) * k * k }, () => (rnd() - 0.5) * (3 / Math.sqrt((cin / group) * k * k)));
    const inputs = [x, this.init(`${path}.weight`, [cout, cin / group, k, k], w)];
    if (o.bias) inputs.push(this.init(`${path}.bias`, [cout], Float32Array.from({ length: cout }, () => rnd() - 0.5)));
    return this.node('Conv', `${scope}/Conv`, inputs, undefined, [ints('kernel_shape', [k, k]), ints('pads', [pad, pad, pad, pad]), ints('strides', [stride, stride]), int('group', group)]);
  }

  /** A BatchNormalization of module `key` under scope `scope`, with seeded statistics. */
  bn([scope, path]: [string, string], x: string, C: number, rnd: () => number): string {
    const v = (f: () => number) => Float32Array.from({ length: C }, f);
    return this.node('BatchNormalization', `${scope}/BatchNormalization`, [x,
      this.init(`${path}.weight`, [C], v(() => 0.5 + rnd())), this.init(`${path}.bias`, [C], v(() => rnd() - 0.5)),
      this.init(`${path}.running_mean`, [C], v(() => (rnd() - 0.5) * 0.2)), this.init(`${path}.running_var`, [C], v(() => 0.5 + rnd())),
    ], undefined, [flt('epsilon', 1e-5)]);
  }

  finish(input: string, inDims: (number | string)[], output: string, outDims: (number | string)[]): Uint8Array {
    this.g.string(2, 'exported').msg(11, valueInfo(input, inDims)).msg(12, valueInfo(output, outDims));
    return new W().int(1, 8).msg(8, new W().string(1, '').int(2, this.opset)).string(2, 'pytorch').msg(7, this.g).finish();
  }
}

export const onnxAttr = { ints, int, flt, strA };
