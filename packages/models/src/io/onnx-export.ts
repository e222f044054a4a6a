/**
 * ONNX export (opset 17) of a graph and its float parameters: Conv, BatchNormalization, Relu, Clip,
 * Add, AveragePool, MaxPool, GlobalAveragePool, Flatten, Gemm, Resize, Concat and Reshape, with the
 * parameters as initializers under their own names. importOnnx reads it back to the same graph; other
 * runtimes (onnxruntime) run it, which is how the float engine is measured against them.
 * @module
 */
import type { Graph, Node } from '../graph.ts';
import type { Params } from '../ops/op.ts';
import { Writer as W } from './protobuf.ts';

const FLOAT = 1, INT64 = 7;

function floatTensor(name: string, dims: readonly number[], data: Float32Array): W {
  return new W().packedInts(1, dims).int(2, FLOAT).string(8, name).bytes(9, new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)));
}

function int64Tensor(name: string, data: readonly number[]): W {
  const raw = new Uint8Array(8 * data.length);
  const dv = new DataView(raw.buffer);
  data.forEach((v, i) => dv.setBigInt64(8 * i, BigInt(v), true));
  return new W().packedInts(1, [data.length]).int(2, INT64).string(8, name).bytes(9, raw);
}

const attr = (name: string, f: (w: W) => W): W => f(new W().string(1, name));
const ints = (name: string, v: readonly number[]) => attr(name, (w) => w.packedInts(8, v).int(20, 7));
const int = (name: string, v: number) => attr(name, (w) => w.int(3, v).int(20, 2));
const flt = (name: string, v: number) => attr(name, (w) => w.float(2, v).int(20, 1));
const strA = (name: string, v: string) => attr(name, (w) => w.string(4, v).int(20, 3));

function valueInfo(name: string, dims: readonly (number | string)[]): W {
  const shape = new W();
  for (const d of dims) shape.msg(1, typeof d === 'number' ? new W().int(1, d) : new W().string(2, d));
  return new W().string(1, name).msg(2, new W().msg(1, new W().int(1, FLOAT).msg(2, shape)));
}

/**
 * The graph as an ONNX model (batch dimension symbolic, input "input", output "output").
 * @throws {Error} for an op the exporter does not know, naming the node
 */
export function exportOnnx(graph: Graph, params: Params): Uint8Array {
  const g = new W();
  const param = (k: string): Float32Array => {
    const v = params.get(k);
    if (!v) throw new Error(`missing parameter "${k}"`);
    return v;
  };
  const init = (name: string, dims: readonly number[], data: Float32Array): string => (g.msg(5, floatTensor(name, dims, data)), name);
  // ReLU-like nodes are named after their layer (the key of patch specs), which importOnnx takes back.
  const raw = (op: string, name: string, inputs: string[], output: string, attrs: W[] = []): void => {
    const w = new W();
    for (const i of inputs) w.string(1, i);
    w.string(2, output).string(3, name).string(4, op);
    for (const a of attrs) w.msg(5, a);
    g.msg(1, w);
  };
  const node = (op: string, n: Node, inputs: string[], attrs: W[] = [], output = n.name): void => raw(op, 'layer' in n ? n.layer : n.name, inputs, output, attrs);
  for (const n of graph.nodes) {
    const x = n.inputs[0]!;
    const inShape = n.inputs[0] ? graph.node(x).shape : [];
    switch (n.op) {
      case 'input':
        break;
      case 'conv':
        node('Conv', n, [x, init(`${n.name}.weight`, [n.out, inShape[0]! / n.groups, ...n.kernel], param(`${n.name}.weight`)), ...(n.bias ? [init(`${n.name}.bias`, [n.out], param(`${n.name}.bias`))] : [])], [
          ints('kernel_shape', n.kernel), ints('strides', n.stride), ints('dilations', n.dilation), int('group', n.groups),
          ints('pads', [n.padding[0], n.padding[1], n.padding[2], n.padding[3]]),
        ]);
        break;
      case 'batchnorm': {
        const C = inShape[0]!;
        node('BatchNormalization', n, [x, ...['weight', 'bias', 'running_mean', 'running_var'].map((p) => init(`${n.name}.${p}`, [C], param(`${n.name}.${p}`)))], [flt('epsilon', n.eps), flt('momentum', 1 - n.momentum)]);
        break;
      }
      case 'relu':
        node('Relu', n, [x]);
        break;
      case 'relu6':
      case 'clip': {
        const hi = n.op === 'clip' ? n.max : 6;
        node('Clip', n, [x, init(`${n.name}.min`, [], Float32Array.of(0)), init(`${n.name}.max`, [], Float32Array.of(hi))]);
        break;
      }
      case 'add':
        node('Add', n, [x, n.inputs[1]!]);
        break;
      case 'avgpool':
        node('AveragePool', n, [x], [ints('kernel_shape', [n.kernel, n.kernel]), ints('strides', [n.stride, n.stride]), ints('pads', Array(4).fill(n.padding)), int('count_include_pad', n.countIncludePad ? 1 : 0), int('ceil_mode', n.ceil ? 1 : 0)]);
        break;
      case 'maxpool':
        node('MaxPool', n, [x], [ints('kernel_shape', [n.kernel, n.kernel]), ints('strides', [n.stride, n.stride]), ints('pads', Array(4).fill(n.padding))]);
        break;
      case 'gap':
        node('GlobalAveragePool', n, [x]);
        break;
      case 'flatten':
        node('Flatten', n, [x], [int('axis', 1)]);
        break;
      case 'reshape':
        g.msg(5, int64Tensor(`${n.name}.shape`, [0, ...n.to]));
        node('Reshape', n, [x, `${n.name}.shape`]);
        break;
      case 'linear':
        node('Gemm', n, [x, init(`${n.name}.weight`, [n.out, inShape[0]!], param(`${n.name}.weight`)), ...(n.bias ? [init(`${n.name}.bias`, [n.out], param(`${n.name}.bias`))] : [])], [int('transB', 1)]);
        break;
      case 'resize':
        // sizes = Concat(Shape(x)[[0, 1]], [OH, OW]), so the batch stays symbolic (a constant would fix it).
        g.msg(5, int64Tensor(`${n.name}.nc_index`, [0, 1]));
        g.msg(5, int64Tensor(`${n.name}.hw`, [n.size[0], n.size[1]]));
        raw('Shape', `${n.name}/Shape`, [x], `${n.name}.shape`);
        raw('Gather', `${n.name}/Gather`, [`${n.name}.shape`, `${n.name}.nc_index`], `${n.name}.nc`, [int('axis', 0)]);
        raw('Concat', `${n.name}/Concat`, [`${n.name}.nc`, `${n.name}.hw`], `${n.name}.sizes`, [int('axis', 0)]);
        node('Resize', n, [x, '', '', `${n.name}.sizes`], [strA('mode', n.mode === 'bilinear' ? 'linear' : 'nearest'), strA('coordinate_transformation_mode', n.mode === 'bilinear' ? 'half_pixel' : 'asymmetric'), ...(n.mode === 'nearest' ? [strA('nearest_mode', 'floor')] : [])]);
        break;
      case 'concat':
        node('Concat', n, [...n.inputs], [int('axis', 1)]);
        break;
      default:
        throw new Error(`exportOnnx: no ONNX form for node "${(n as Node).name}" (op ${(n as Node).op})`);
    }
  }
  g.string(2, graph.name);
  g.msg(11, valueInfo(graph.input, ['batch', ...graph.inputShape]));
  // The output under a fixed name: an Identity from the last node.
  g.msg(1, new W().string(1, graph.output).string(2, 'output').string(3, 'output').string(4, 'Identity'));
  g.msg(12, valueInfo('output', ['batch', ...graph.outputShape]));
  return new W().int(1, 8).msg(8, new W().string(1, '').int(2, 17)).string(2, '@si/models').msg(7, g).finish();
}
