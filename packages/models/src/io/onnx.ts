/**
 * ONNX import (opset >= 11) for the operators CNNs of this project use: Conv, BatchNormalization, Relu,
 * Clip (as ReLU6 or ReLU), Add, AveragePool, MaxPool, GlobalAveragePool, Flatten, Gemm, MatMul (+ Add
 * bias), Resize, Concat, and the no-ops Identity and Dropout. Anything else is refused with an error
 * naming the operator and the node. ReLU layers take the ONNX node's name as their layer name.
 * @module
 */
import { GraphBuilder, GraphError, type Graph } from '../graph.ts';
import type { Params } from '../ops/op.ts';
import { bytesOf, fields, first, floats, ints, ProtobufError, str, type Field } from './protobuf.ts';
import { shapeSize } from '@si/ring';

export class OnnxError extends Error {
  override readonly name = 'OnnxError';
}

export const SUPPORTED_OPS = ['Conv', 'BatchNormalization', 'Relu', 'Clip', 'Add', 'AveragePool', 'MaxPool', 'GlobalAveragePool', 'Flatten', 'Gemm', 'MatMul', 'Resize', 'Concat', 'Identity', 'Dropout'] as const;

interface Tensor {
  dims: number[];
  data: Float32Array;
}

const FLOAT = 1, INT32 = 6, INT64 = 7, DOUBLE = 11;

function tensor(b: Uint8Array): [string, Tensor] {
  const fs = fields(b, 'TensorProto');
  const name = first(fs, 8) ? str(first(fs, 8)!) : '';
  const dims = ints(fs, 1);
  const type = (first(fs, 2) as { n: number } | undefined)?.n ?? FLOAT;
  const numel = shapeSize(dims);
  const raw = first(fs, 9) ? { bytes: bytesOf(first(fs, 9), `initializer "${name}" raw data`) } : undefined;
  let data: Float32Array;
  if (raw) {
    const dv = new DataView(raw.bytes.buffer, raw.bytes.byteOffset, raw.bytes.byteLength);
    const width = type === FLOAT || type === INT32 ? 4 : type === INT64 || type === DOUBLE ? 8 : 0;
    if (!width) throw new OnnxError(`initializer "${name}": unsupported data type ${type}`);
    if (raw.bytes.length !== numel * width) throw new OnnxError(`initializer "${name}": ${raw.bytes.length} bytes for ${numel} values of type ${type} (truncated?)`);
    data = new Float32Array(numel);
    for (let i = 0; i < numel; i++)
      data[i] = type === FLOAT ? dv.getFloat32(4 * i, true) : type === INT32 ? dv.getInt32(4 * i, true) : type === DOUBLE ? dv.getFloat64(8 * i, true) : Number(dv.getBigInt64(8 * i, true));
  } else if (type === FLOAT) data = Float32Array.from(floats(fs, 4));
  else if (type === INT64) data = Float32Array.from(ints(fs, 7));
  else if (type === INT32) data = Float32Array.from(ints(fs, 5));
  else throw new OnnxError(`initializer "${name}": unsupported data type ${type}`);
  if (data.length !== numel) throw new OnnxError(`initializer "${name}": ${data.length} values for dims [${dims.join(',')}]`);
  return [name, { dims, data }];
}

interface OnnxNode {
  op: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attrs: Map<string, Field[]>;
}

function node(b: Uint8Array, i: number): OnnxNode {
  const fs = fields(b, `node ${i}`);
  const attrs = new Map<string, Field[]>();
  for (const f of fs) if (f.no === 5) {
    const af = fields(bytesOf(f), `node ${i} attribute`);
    attrs.set(str(first(af, 1)!), af);
  }
  const outputs = fs.filter((f) => f.no === 2).map(str);
  const name = fs.find((f) => f.no === 3) ? str(fs.find((f) => f.no === 3)!) : outputs[0] ?? `node${i}`;
  return { op: str(first(fs, 4) ?? ({ no: 4, wire: 2, bytes: new Uint8Array() } as Field)), name, inputs: fs.filter((f) => f.no === 1).map(str), outputs, attrs };
}

const attrInts = (n: OnnxNode, k: string, d: number[]): number[] => (n.attrs.has(k) ? ints(n.attrs.get(k)!, 8) : d);
const attrInt = (n: OnnxNode, k: string, d: number): number => (n.attrs.has(k) ? ((first(n.attrs.get(k)!, 3) as { n: number } | undefined)?.n ?? d) : d);
const attrFloat = (n: OnnxNode, k: string, d: number): number => (n.attrs.has(k) ? (floats(n.attrs.get(k)!, 2)[0] ?? d) : d);
const attrStr = (n: OnnxNode, k: string, d: string): string => (n.attrs.has(k) && first(n.attrs.get(k)!, 4) ? str(first(n.attrs.get(k)!, 4)!) : d);

function valueShape(b: Uint8Array): { name: string; dims: (number | null)[] } {
  const fs = fields(b, 'ValueInfoProto');
  const name = str(first(fs, 1)!);
  const type = first(fs, 2);
  const dims: (number | null)[] = [];
  if (type) {
    const tt = first(fields(bytesOf(type)), 1);
    const shape = tt && first(fields(bytesOf(tt)), 2);
    if (shape) for (const d of fields(bytesOf(shape)).filter((f) => f.no === 1)) {
      const v = first(fields(bytesOf(d)), 1) as { n: number } | undefined;
      dims.push(v ? v.n : null);
    }
  }
  return { name, dims };
}

/**
 * Imports an ONNX model.
 * @throws {OnnxError} naming the node for unsupported operators or attributes; for truncated files
 */
export function importOnnx(bytes: Uint8Array, opts: { name?: string } = {}): { graph: Graph; params: Params; opset: number } {
  let model: Field[];
  try {
    model = fields(bytes, 'ModelProto');
    const gf = first(model, 7);
    if (!gf) throw new OnnxError('not an ONNX model: no graph');
    return build(model, fields(bytesOf(gf), 'GraphProto'), opts.name);
  } catch (e) {
    if (e instanceof ProtobufError) throw new OnnxError(`malformed or truncated ONNX file: ${e.message}`);
    if (e instanceof GraphError) throw new OnnxError(`the ONNX graph does not fit together: ${e.message}`);
    throw e;
  }
}

function build(model: Field[], g: Field[], name?: string): { graph: Graph; params: Params; opset: number } {
  let opset = 0;
  for (const f of model.filter((x) => x.no === 8)) {
    const o = fields(bytesOf(f));
    const domain = first(o, 1) ? str(first(o, 1)!) : '';
    if (domain === '' || domain === 'ai.onnx') opset = (first(o, 2) as { n: number } | undefined)?.n ?? 0;
  }
  if (opset < 11) throw new OnnxError(`ONNX opset ${opset} is not supported (need 11 or later; re-export with a newer opset)`);
  const inits = new Map(g.filter((f) => f.no === 5).map((f) => tensor(bytesOf(f))));
  const inputs = g.filter((f) => f.no === 11).map((f) => valueShape(bytesOf(f))).filter((v) => !inits.has(v.name));
  if (inputs.length !== 1) throw new OnnxError(`expected one (non-initializer) graph input, found ${inputs.length}`);
  const inDims = inputs[0]!.dims;
  if (inDims.length !== 4 || inDims.slice(1).some((d) => d === null)) throw new OnnxError(`graph input "${inputs[0]!.name}" must be [N, C, H, W] with known C, H, W; got [${inDims.map((d) => d ?? '?').join(',')}]`);
  const outputs = g.filter((f) => f.no === 12).map((f) => valueShape(bytesOf(f)).name);
  const b = new GraphBuilder(name ?? 'onnx', inDims.slice(1) as number[]);
  const params: Params = new Map();
  const ours = new Map<string, string>([[inputs[0]!.name, b.input]]);
  const used = new Set<string>();
  const taken = new Set<string>();
  const nodes = g.filter((f) => f.no === 1).map((f, i) => node(bytesOf(f), i));
  const safe = (s: string): string => {
    let n = s.replace(/[^A-Za-z0-9_.]/g, '_').replace(/^_+/, '') || 'node';
    while (taken.has(n)) n += '_';
    taken.add(n);
    return n;
  };
  const init = (n: OnnxNode, i: number, what: string): Tensor => {
    const t = inits.get(n.inputs[i]!);
    if (!t) throw new OnnxError(`node "${n.name}" (${n.op}): ${what} "${n.inputs[i]}" must be an initializer`);
    used.add(n.inputs[i]!);
    return t;
  };
  const src = (n: OnnxNode, i = 0): string => {
    const s = ours.get(n.inputs[i]!);
    if (!s) throw new OnnxError(`node "${n.name}" (${n.op}) reads "${n.inputs[i]}", which is not computed before it`);
    return s;
  };
  nodes.forEach((n, idx) => {
    const id = safe(n.name);
    let out: string;
    switch (n.op) {
      case 'Conv': {
        if (attrStr(n, 'auto_pad', 'NOTSET') !== 'NOTSET') throw new OnnxError(`node "${n.name}" (Conv): auto_pad ${attrStr(n, 'auto_pad', '')} is not supported; export with explicit pads`);
        const w = init(n, 1, 'weight');
        const k = attrInts(n, 'kernel_shape', w.dims.slice(2));
        const pads = attrInts(n, 'pads', [0, 0, 0, 0]);
        out = b.conv(id, src(n), {
          out: w.dims[0]!, kernel: [k[0]!, k[1]!], stride: attrInts(n, 'strides', [1, 1]) as [number, number],
          padding: [pads[0]!, pads[1]!, pads[2]!, pads[3]!], dilation: attrInts(n, 'dilations', [1, 1]) as [number, number],
          groups: attrInt(n, 'group', 1), bias: n.inputs.length > 2 && n.inputs[2] !== '',
        });
        const want = [w.dims[0]!, b.shape(src(n))[0]! / attrInt(n, 'group', 1), k[0]!, k[1]!];
        if (w.dims.join() !== want.join()) throw new OnnxError(`node "${n.name}" (Conv): weight dims [${w.dims.join(',')}], expected [${want.join(',')}]`);
        params.set(`${id}.weight`, w.data);
        if (n.inputs.length > 2 && n.inputs[2] !== '') params.set(`${id}.bias`, init(n, 2, 'bias').data);
        break;
      }
      case 'BatchNormalization': {
        out = b.batchnorm(id, src(n), attrFloat(n, 'epsilon', 1e-5), 1 - attrFloat(n, 'momentum', 0.9));
        const names = ['weight', 'bias', 'running_mean', 'running_var'];
        names.forEach((p, i) => params.set(`${id}.${p}`, init(n, i + 1, p).data.slice()));
        break;
      }
      case 'Relu':
        out = b.relu(id, src(n), id);
        break;
      case 'Clip': {
        const lo = n.inputs[1] ? init(n, 1, 'min').data[0]! : -Infinity, hi = n.inputs[2] ? init(n, 2, 'max').data[0]! : Infinity;
        if (lo !== 0 || (hi !== 6 && hi !== Infinity)) throw new OnnxError(`node "${n.name}" (Clip): only Clip(0, 6) (ReLU6) and Clip(0, inf) (ReLU) are supported, got Clip(${lo}, ${hi})`);
        out = b.relu(id, src(n), id, hi === 6);
        break;
      }
      case 'Add': {
        const [a, c] = n.inputs as [string, string];
        if (inits.has(a) || inits.has(c)) throw new OnnxError(`node "${n.name}" (Add): adding a constant is only supported as the bias right after a MatMul`);
        out = b.add(id, src(n, 0), src(n, 1));
        break;
      }
      case 'AveragePool':
      case 'MaxPool': {
        const k = attrInts(n, 'kernel_shape', []), s = attrInts(n, 'strides', [1, 1]), p = attrInts(n, 'pads', [0, 0, 0, 0]);
        if (k.length !== 2 || k[0] !== k[1] || s[0] !== s[1] || new Set(p).size > 1 || attrInt(n, 'ceil_mode', 0))
          throw new OnnxError(`node "${n.name}" (${n.op}): only square kernels, equal strides, symmetric pads and ceil_mode 0 are supported`);
        out = b.pool(id, src(n), n.op === 'AveragePool' ? 'avgpool' : 'maxpool', k[0]!, s[0]!, p[0]!, attrInt(n, 'count_include_pad', 0) === 1);
        break;
      }
      case 'GlobalAveragePool':
        out = b.gap(id, src(n));
        break;
      case 'Flatten':
        if (attrInt(n, 'axis', 1) !== 1) throw new OnnxError(`node "${n.name}" (Flatten): only axis 1 is supported`);
        out = b.flatten(id, src(n));
        break;
      case 'Gemm': {
        if (attrInt(n, 'transA', 0) || attrFloat(n, 'alpha', 1) !== 1 || attrFloat(n, 'beta', 1) !== 1)
          throw new OnnxError(`node "${n.name}" (Gemm): only transA = 0, alpha = beta = 1 are supported`);
        const w = init(n, 1, 'B');
        const transB = attrInt(n, 'transB', 0) === 1;
        const [O, I] = transB ? [w.dims[0]!, w.dims[1]!] : [w.dims[1]!, w.dims[0]!];
        out = b.linear(id, src(n), O, n.inputs.length > 2 && n.inputs[2] !== '');
        params.set(`${id}.weight`, transB ? w.data : transpose(w.data, I, O));
        if (n.inputs.length > 2 && n.inputs[2] !== '') params.set(`${id}.bias`, init(n, 2, 'C').data);
        break;
      }
      case 'MatMul': {
        const w = init(n, 1, 'weight');
        const [I, O] = w.dims as [number, number];
        const next = nodes[idx + 1];
        const bias = next && next.op === 'Add' && next.inputs.includes(n.outputs[0]!) ? next.inputs.find((x) => inits.has(x)) : undefined;
        out = b.linear(id, src(n), O, bias !== undefined);
        params.set(`${id}.weight`, transpose(w.data, I, O));
        if (bias !== undefined) {
          params.set(`${id}.bias`, inits.get(bias)!.data);
          used.add(bias);
          ours.set(next!.outputs[0]!, out);
          next!.op = 'Identity';
          next!.inputs = [n.outputs[0]!];
        }
        break;
      }
      case 'Resize': {
        const mode = attrStr(n, 'mode', 'nearest');
        if (mode !== 'linear' && mode !== 'nearest') throw new OnnxError(`node "${n.name}" (Resize): mode "${mode}" is not supported`);
        const [, H, W] = b.shape(src(n)) as [number, number, number];
        let size: [number, number];
        const sizes = n.inputs[3] ? init(n, 3, 'sizes').data : null;
        if (sizes && sizes.length === 4) size = [sizes[2]!, sizes[3]!];
        else {
          const scales = n.inputs[2] ? init(n, 2, 'scales').data : null;
          if (!scales || scales.length !== 4) throw new OnnxError(`node "${n.name}" (Resize): needs scales or sizes for 4 dimensions`);
          size = [Math.floor(H * scales[2]!), Math.floor(W * scales[3]!)];
        }
        if (n.inputs[1]) used.add(n.inputs[1]);
        out = b.resize(id, src(n), size, mode === 'linear' ? 'bilinear' : 'nearest');
        break;
      }
      case 'Concat':
        if (attrInt(n, 'axis', 1) !== 1) throw new OnnxError(`node "${n.name}" (Concat): only channel concatenation (axis 1) is supported`);
        out = b.concat(id, n.inputs.map((_, i) => src(n, i)));
        break;
      case 'Identity':
      case 'Dropout':
        out = src(n);
        break;
      default:
        throw new OnnxError(`unsupported ONNX op "${n.op}" at node "${n.name}" (supported: ${SUPPORTED_OPS.join(', ')})`);
    }
    ours.set(n.outputs[0]!, out);
  });
  const output = outputs[0] && ours.get(outputs[0]);
  if (!output) throw new OnnxError(`graph output "${outputs[0]}" is not computed by any node`);
  const unused = [...inits.keys()].filter((k) => !used.has(k));
  if (unused.length) throw new OnnxError(`initializers not used by any supported node: ${unused.slice(0, 5).join(', ')}`);
  return { graph: b.build(output), params, opset };
}

function transpose(a: Float32Array, R: number, C: number): Float32Array {
  const t = new Float32Array(a.length);
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) t[c * R + r] = a[r * C + c]!;
  return t;
}
