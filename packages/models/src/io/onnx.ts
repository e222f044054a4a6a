/**
 * ONNX import (opset 11-20) of CNNs as exporters write them (torch.onnx.export among them):
 *
 * - operators: Conv, BatchNormalization, Relu, Clip (ReLU6, Clip(0, t), or ReLU), Add, AveragePool
 *   (ceil_mode too), MaxPool, GlobalAveragePool, ReduceMean over H and W (global average pooling, keepdims
 *   either way), Flatten, Gemm, MatMul (+ Add bias), Resize, Concat, and the no-ops Identity and Dropout;
 * - constants: Constant nodes become initializers, and the shape arithmetic exporters emit
 *   (Shape, Gather, Unsqueeze, Squeeze, Concat, Cast on constants) is folded: a Reshape to [N, -1] (or
 *   [N, C*H*W]) is a flatten, to another static shape a reshape; Squeeze and Unsqueeze of size-1
 *   dimensions are reshapes;
 * - Pad (constant zeros, on H and W) before a Conv or an AveragePool is folded into its padding.
 *
 * Anything else is refused with an error naming the operator and the node. Names follow the exporter's
 * module path: node `/layer1/layer1.0/relu1/Relu` becomes `layer1.0.relu1` (its ReLU layer, and the key
 * prefix of its parameters: `layer1.0.conv1.weight` as in the PyTorch state dict); a module used twice
 * gets `layer1.0.relu`, then `layer1.0.relu:1`. Nodes without a path keep their (sanitised) name.
 * @module
 */
import { shapeSize } from '@si/ring';
import { GraphBuilder, GraphError, type Graph } from '../graph.ts';
import type { Params } from '../ops/op.ts';
import { bytesOf, fields, first, floats, ints, ProtobufError, str, type Field } from './protobuf.ts';

export class OnnxError extends Error {
  override readonly name = 'OnnxError';
}

export const SUPPORTED_OPS = [
  'Conv', 'BatchNormalization', 'Relu', 'Clip', 'Add', 'AveragePool', 'MaxPool', 'GlobalAveragePool', 'ReduceMean', 'Flatten', 'Reshape', 'Squeeze',
  'Unsqueeze', 'Pad', 'Gemm', 'MatMul', 'Resize', 'Concat', 'Identity', 'Dropout', 'Constant', 'Shape', 'Gather', 'Cast',
] as const;

/** A constant: dims and values (float; shape arithmetic keeps integers exactly, the batch dimension as NaN). */
interface Tensor {
  dims: number[];
  data: Float64Array;
}

const FLOAT = 1, INT32 = 6, INT64 = 7, DOUBLE = 11;

function tensorOf(fs: Field[], name: string): Tensor {
  const dims = ints(fs, 1);
  const type = (first(fs, 2) as { n: number } | undefined)?.n ?? FLOAT;
  const numel = shapeSize(dims);
  const raw = first(fs, 9) ? bytesOf(first(fs, 9), `initializer "${name}" raw data`) : undefined;
  let data: Float64Array;
  if (raw) {
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const width = type === FLOAT || type === INT32 ? 4 : type === INT64 || type === DOUBLE ? 8 : 0;
    if (!width) throw new OnnxError(`initializer "${name}": unsupported data type ${type}`);
    if (raw.length !== numel * width) throw new OnnxError(`initializer "${name}": ${raw.length} bytes for ${numel} values of type ${type} (truncated?)`);
    data = new Float64Array(numel);
    for (let i = 0; i < numel; i++)
      data[i] = type === FLOAT ? dv.getFloat32(4 * i, true) : type === INT32 ? dv.getInt32(4 * i, true) : type === DOUBLE ? dv.getFloat64(8 * i, true) : Number(dv.getBigInt64(8 * i, true));
  } else if (type === FLOAT) data = Float64Array.from(floats(fs, 4));
  else if (type === INT64) data = Float64Array.from(ints(fs, 7));
  else if (type === INT32) data = Float64Array.from(ints(fs, 5));
  else throw new OnnxError(`initializer "${name}": unsupported data type ${type}`);
  if (data.length !== numel) throw new OnnxError(`initializer "${name}": ${data.length} values for dims [${dims.join(',')}]`);
  return { dims, data };
}

function initializer(b: Uint8Array): [string, Tensor] {
  const fs = fields(b, 'TensorProto');
  const name = first(fs, 8) ? str(first(fs, 8)!) : '';
  return [name, tensorOf(fs, name)];
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

/** A Constant node's value (attribute value, value_float(s) or value_int(s)). */
function constantValue(n: OnnxNode): Tensor {
  const t = n.attrs.get('value');
  if (t) return tensorOf(fields(bytesOf(first(t, 5), `node "${n.name}" (Constant) value`), 'TensorProto'), n.name);
  const f = n.attrs.get('value_float'), fl = n.attrs.get('value_floats'), i = n.attrs.get('value_int'), il = n.attrs.get('value_ints');
  if (f) return { dims: [], data: Float64Array.of(floats(f, 2)[0] ?? 0) };
  if (fl) return { dims: [floats(fl, 7).length], data: Float64Array.from(floats(fl, 7)) };
  if (i) return { dims: [], data: Float64Array.of((first(i, 3) as { n: number } | undefined)?.n ?? 0) };
  if (il) return { dims: [ints(il, 8).length], data: Float64Array.from(ints(il, 8)) };
  throw new OnnxError(`node "${n.name}" (Constant): only tensor, float(s) and int(s) values are supported`);
}

/**
 * The module path of an exporter's node name (the scope before the op's own name): each segment is a
 * child's local name, or, for a numbered child of a container, the container's segment extended by the
 * number: `/layer1/layer1.0/relu1/Relu` → `layer1.0.relu1`, `/features/features.1/conv/conv.0/conv.0.0/Conv`
 * → `features.1.conv.0.0`, as in the PyTorch state dict. Null for names without a path.
 */
function modulePath(name: string): string | null {
  if (!name.startsWith('/')) return null;
  const segs = name.slice(1).split('/').slice(0, -1).filter((s) => s !== '');
  if (segs.length === 0) return null;
  let path = '', prev = '';
  for (const s of segs) {
    path = prev !== '' && s.startsWith(`${prev}.`) ? path + s.slice(prev.length) : path === '' ? s : `${path}.${s}`;
    prev = s;
  }
  return path;
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
    return new Importer(model, fields(bytesOf(gf), 'GraphProto'), opts.name).run();
  } catch (e) {
    if (e instanceof ProtobufError) throw new OnnxError(`malformed or truncated ONNX file: ${e.message}`);
    if (e instanceof GraphError) throw new OnnxError(`the ONNX graph does not fit together: ${e.message}`);
    throw e;
  }
}

/** A pending zero Pad [top, left, bottom, right] on a tensor, folded into the Conv or AveragePool that reads it. */
interface Padded {
  src: string;
  pads: [number, number, number, number];
}

class Importer {
  private readonly opset: number;
  private readonly consts = new Map<string, Tensor>();
  private readonly used = new Set<string>();
  private readonly ours = new Map<string, string>();
  private readonly padded = new Map<string, Padded>();
  private readonly taken = new Set<string>();
  private readonly params: Params = new Map();
  private readonly b: GraphBuilder;
  private readonly nodes: OnnxNode[];
  private readonly initNames: Set<string>;
  private readonly output: string;

  constructor(model: Field[], g: Field[], name?: string) {
    let opset = 0;
    for (const f of model.filter((x) => x.no === 8)) {
      const o = fields(bytesOf(f));
      const domain = first(o, 1) ? str(first(o, 1)!) : '';
      if (domain === '' || domain === 'ai.onnx') opset = (first(o, 2) as { n: number } | undefined)?.n ?? 0;
    }
    if (opset < 11) throw new OnnxError(`ONNX opset ${opset} is not supported (need 11 or later; re-export with a newer opset)`);
    this.opset = opset;
    for (const [k, v] of g.filter((f) => f.no === 5).map((f) => initializer(bytesOf(f)))) this.consts.set(k, v);
    this.initNames = new Set(this.consts.keys());
    const inputs = g.filter((f) => f.no === 11).map((f) => valueShape(bytesOf(f))).filter((v) => !this.consts.has(v.name));
    if (inputs.length !== 1) throw new OnnxError(`expected one (non-initializer) graph input, found ${inputs.length}`);
    const inDims = inputs[0]!.dims;
    if (inDims.length !== 4 || inDims.slice(1).some((d) => d === null)) throw new OnnxError(`graph input "${inputs[0]!.name}" must be [N, C, H, W] with known C, H, W; got [${inDims.map((d) => d ?? '?').join(',')}]`);
    this.b = new GraphBuilder(name ?? 'onnx', inDims.slice(1) as number[]);
    this.ours.set(inputs[0]!.name, this.b.input);
    this.output = g.filter((f) => f.no === 12).map((f) => valueShape(bytesOf(f)).name)[0] ?? '';
    this.nodes = g.filter((f) => f.no === 1).map((f, i) => node(bytesOf(f), i));
  }

  run(): { graph: Graph; params: Params; opset: number } {
    this.nodes.forEach((n, idx) => this.visit(n, idx));
    const output = this.ours.get(this.output);
    if (!output) throw new OnnxError(`graph output "${this.output}" is not computed by any node`);
    const unused = [...this.initNames].filter((k) => !this.used.has(k));
    if (unused.length) throw new OnnxError(`initializers not used by any supported node: ${unused.slice(0, 5).join(', ')}`);
    for (const [name, p] of this.padded) if (!this.used.has(name)) throw new OnnxError(`the Pad producing "${name}" (from "${p.src}") feeds something other than a Conv or an AveragePool`);
    return { graph: this.b.build(output), params: this.params, opset: this.opset };
  }

  /** A unique node name from the exporter's module path (or its sanitised name). */
  private id(n: OnnxNode): string {
    const base = modulePath(n.name) ?? (n.name.replace(/[^A-Za-z0-9_.]/g, '_').replace(/^_+/, '') || 'node');
    let id = base;
    for (let k = 1; this.taken.has(id); k++) id = `${base}:${k}`;
    this.taken.add(id);
    return id;
  }

  /** A constant input (initializer, Constant, or folded shape arithmetic). */
  private constant(n: OnnxNode, i: number, what: string): Tensor {
    const t = this.consts.get(n.inputs[i]!);
    if (!t) throw new OnnxError(`node "${n.name}" (${n.op}): ${what} "${n.inputs[i]}" must be a constant (an initializer or a Constant)`);
    this.used.add(n.inputs[i]!);
    return t;
  }

  private optionalConstant(n: OnnxNode, i: number, what: string): Tensor | null {
    return n.inputs[i] ? this.constant(n, i, what) : null;
  }

  private src(n: OnnxNode, i = 0): string {
    const name = n.inputs[i]!;
    const s = this.ours.get(name);
    if (!s) {
      const p = this.padded.get(name);
      if (p) throw new OnnxError(`node "${n.name}" (${n.op}) reads the output of a Pad; only a Conv or an AveragePool can absorb a Pad`);
      throw new OnnxError(`node "${n.name}" (${n.op}) reads "${name}", which is not computed before it`);
    }
    return s;
  }

  /** The input of a Conv or AveragePool and the zero padding a Pad before it adds. */
  private paddedSrc(n: OnnxNode): { src: string; pads: [number, number, number, number] } {
    const p = this.padded.get(n.inputs[0]!);
    if (!p) return { src: this.src(n), pads: [0, 0, 0, 0] };
    this.used.add(n.inputs[0]!);
    const s = this.ours.get(p.src);
    if (!s) throw new OnnxError(`node "${n.name}" (${n.op}) reads a Pad of "${p.src}", which is not computed before it`);
    return { src: s, pads: p.pads };
  }

  /** Per-image shape of a computed tensor. */
  private shapeOf(name: string): readonly number[] {
    return this.b.shape(name);
  }

  private visit(n: OnnxNode, idx: number): void {
    if (this.fold(n)) return;
    const b = this.b;
    let out: string;
    switch (n.op) {
      case 'Conv': {
        if (attrStr(n, 'auto_pad', 'NOTSET') !== 'NOTSET') throw new OnnxError(`node "${n.name}" (Conv): auto_pad ${attrStr(n, 'auto_pad', '')} is not supported; export with explicit pads`);
        const w = this.constant(n, 1, 'weight');
        const k = attrInts(n, 'kernel_shape', w.dims.slice(2));
        const pads = attrInts(n, 'pads', [0, 0, 0, 0]);
        const { src, pads: extra } = this.paddedSrc(n);
        const id = this.id(n);
        const hasBias = n.inputs.length > 2 && n.inputs[2] !== '';
        out = b.conv(id, src, {
          out: w.dims[0]!, kernel: [k[0]!, k[1]!], stride: attrInts(n, 'strides', [1, 1]) as [number, number],
          padding: [pads[0]! + extra[0], pads[1]! + extra[1], pads[2]! + extra[2], pads[3]! + extra[3]], dilation: attrInts(n, 'dilations', [1, 1]) as [number, number],
          groups: attrInt(n, 'group', 1), bias: hasBias,
        });
        const want = [w.dims[0]!, b.shape(src)[0]! / attrInt(n, 'group', 1), k[0]!, k[1]!];
        if (w.dims.join() !== want.join()) throw new OnnxError(`node "${n.name}" (Conv): weight dims [${w.dims.join(',')}], expected [${want.join(',')}]`);
        this.params.set(`${id}.weight`, Float32Array.from(w.data));
        if (hasBias) this.params.set(`${id}.bias`, Float32Array.from(this.constant(n, 2, 'bias').data));
        break;
      }
      case 'BatchNormalization': {
        const id = this.id(n);
        out = b.batchnorm(id, this.src(n), attrFloat(n, 'epsilon', 1e-5), 1 - attrFloat(n, 'momentum', 0.9));
        ['weight', 'bias', 'running_mean', 'running_var'].forEach((p, i) => this.params.set(`${id}.${p}`, Float32Array.from(this.constant(n, i + 1, p).data)));
        break;
      }
      case 'Relu': {
        const id = this.id(n);
        out = b.relu(id, this.src(n), id);
        break;
      }
      case 'Clip': {
        const lo = this.optionalConstant(n, 1, 'min')?.data[0] ?? -Infinity, hi = this.optionalConstant(n, 2, 'max')?.data[0] ?? Infinity;
        if (lo !== 0 || !(hi > 0)) throw new OnnxError(`node "${n.name}" (Clip): only Clip(0, t) with t > 0 (ReLU6 is t = 6) and Clip(0, inf) (ReLU) are supported, got Clip(${lo}, ${hi})`);
        const id = this.id(n);
        out = hi === Infinity ? b.relu(id, this.src(n), id) : hi === 6 ? b.relu(id, this.src(n), id, true) : b.node('clip', id, [this.src(n)], { layer: id, max: hi });
        break;
      }
      case 'Add': {
        const [a, c] = n.inputs as [string, string];
        if (this.consts.has(a) || this.consts.has(c)) throw new OnnxError(`node "${n.name}" (Add): adding a constant is only supported as the bias right after a MatMul`);
        out = b.add(this.id(n), this.src(n, 0), this.src(n, 1));
        break;
      }
      case 'AveragePool':
      case 'MaxPool':
        out = this.pool(n);
        break;
      case 'GlobalAveragePool':
        out = b.gap(this.id(n), this.src(n));
        break;
      case 'ReduceMean': {
        const axes = (this.opset >= 18 && n.inputs[1] ? Array.from(this.constant(n, 1, 'axes').data) : attrInts(n, 'axes', [])).map((a) => (a < 0 ? a + 4 : a)).sort();
        if (axes.join() !== '2,3' || this.shapeOf(this.src(n)).length !== 3) throw new OnnxError(`node "${n.name}" (ReduceMean): only the mean over H and W of an [N, C, H, W] tensor (global average pooling) is supported, got axes [${axes.join(',')}]`);
        const id = this.id(n);
        out = b.gap(attrInt(n, 'keepdims', 1) ? id : `${id}.gap`, this.src(n));
        if (!attrInt(n, 'keepdims', 1)) out = b.flatten(id, out);
        break;
      }
      case 'Flatten':
        if (attrInt(n, 'axis', 1) !== 1) throw new OnnxError(`node "${n.name}" (Flatten): only axis 1 is supported`);
        out = b.flatten(this.id(n), this.src(n));
        break;
      case 'Reshape':
        out = this.reshape(n, this.constant(n, 1, 'shape').data);
        break;
      case 'Squeeze':
      case 'Unsqueeze':
        out = this.squeeze(n);
        break;
      case 'Pad':
        this.pad(n);
        return;
      case 'Gemm': {
        if (attrInt(n, 'transA', 0) || attrFloat(n, 'alpha', 1) !== 1 || attrFloat(n, 'beta', 1) !== 1)
          throw new OnnxError(`node "${n.name}" (Gemm): only transA = 0, alpha = beta = 1 are supported`);
        const w = this.constant(n, 1, 'B');
        const transB = attrInt(n, 'transB', 0) === 1;
        const [O, I] = transB ? [w.dims[0]!, w.dims[1]!] : [w.dims[1]!, w.dims[0]!];
        const id = this.id(n), hasBias = n.inputs.length > 2 && n.inputs[2] !== '';
        out = b.linear(id, this.src(n), O, hasBias);
        this.params.set(`${id}.weight`, transB ? Float32Array.from(w.data) : transpose(w.data, I, O));
        if (hasBias) this.params.set(`${id}.bias`, Float32Array.from(this.constant(n, 2, 'C').data));
        break;
      }
      case 'MatMul': {
        const w = this.constant(n, 1, 'weight');
        const [I, O] = w.dims as [number, number];
        const next = this.nodes[idx + 1];
        const bias = next && next.op === 'Add' && next.inputs.includes(n.outputs[0]!) ? next.inputs.find((x) => this.consts.has(x)) : undefined;
        const id = this.id(n);
        out = b.linear(id, this.src(n), O, bias !== undefined);
        this.params.set(`${id}.weight`, transpose(w.data, I, O));
        if (bias !== undefined) {
          this.params.set(`${id}.bias`, Float32Array.from(this.consts.get(bias)!.data));
          this.used.add(bias);
          this.ours.set(next!.outputs[0]!, out);
          next!.op = 'Identity';
          next!.inputs = [n.outputs[0]!];
        }
        break;
      }
      case 'Resize': {
        const mode = attrStr(n, 'mode', 'nearest');
        if (mode !== 'linear' && mode !== 'nearest') throw new OnnxError(`node "${n.name}" (Resize): mode "${mode}" is not supported`);
        const [, H, W] = this.shapeOf(this.src(n)) as [number, number, number];
        let size: [number, number];
        const sizes = n.inputs[3] ? this.constant(n, 3, 'sizes').data : null;
        if (sizes && sizes.length === 4) size = [sizes[2]!, sizes[3]!];
        else {
          const scales = n.inputs[2] ? this.constant(n, 2, 'scales').data : null;
          if (!scales || scales.length !== 4) throw new OnnxError(`node "${n.name}" (Resize): needs scales or sizes for 4 dimensions`);
          size = [Math.floor(H * scales[2]!), Math.floor(W * scales[3]!)];
        }
        if (n.inputs[1] && this.consts.has(n.inputs[1])) this.used.add(n.inputs[1]);
        out = b.resize(this.id(n), this.src(n), size, mode === 'linear' ? 'bilinear' : 'nearest');
        break;
      }
      case 'Concat':
        if (attrInt(n, 'axis', 1) !== 1) throw new OnnxError(`node "${n.name}" (Concat): only channel concatenation (axis 1) is supported`);
        out = b.concat(this.id(n), n.inputs.map((_, i) => this.src(n, i)));
        break;
      case 'Identity':
      case 'Dropout':
        out = this.src(n);
        break;
      default:
        throw new OnnxError(`unsupported ONNX op "${n.op}" at node "${n.name}" (supported: ${SUPPORTED_OPS.join(', ')})`);
    }
    this.ours.set(n.outputs[0]!, out);
  }

  /**
   * Constant folding: Constant nodes, and Shape / Gather / Unsqueeze / Squeeze / Concat / Cast /
   * Identity on constants (a Shape of a computed tensor is constant but for the batch, kept as NaN).
   * @returns true when the node was folded (no graph node)
   */
  private fold(n: OnnxNode): boolean {
    const known = (i: number) => n.inputs[i] !== undefined && n.inputs[i] !== '' && this.consts.has(n.inputs[i]!);
    const set = (t: Tensor) => (this.consts.set(n.outputs[0]!, t), true);
    const take = (i: number) => (this.used.add(n.inputs[i]!), this.consts.get(n.inputs[i]!)!);
    switch (n.op) {
      case 'Constant':
        return set(constantValue(n));
      case 'Shape': {
        if (known(0)) return set({ dims: [take(0).dims.length], data: Float64Array.from(take(0).dims) });
        const s = this.ours.get(n.inputs[0]!);
        if (!s) return false;
        return set({ dims: [1 + this.shapeOf(s).length], data: Float64Array.of(NaN, ...this.shapeOf(s)) });
      }
      case 'Gather': {
        if (!known(0) || !known(1)) return false;
        const [d, i] = [take(0), take(1)];
        if (d.dims.length !== 1 || attrInt(n, 'axis', 0) !== 0) return false;
        const pick = Array.from(i.data, (k) => d.data[k < 0 ? k + d.data.length : k]!);
        return set({ dims: i.dims, data: Float64Array.from(pick) });
      }
      case 'Unsqueeze':
      case 'Squeeze': {
        if (!known(0)) return false;
        const t = take(0);
        if (this.opset >= 13 && n.inputs[1]) take(1);
        const dims = n.op === 'Unsqueeze' ? (t.dims.length === 0 ? [1] : [...t.dims, 1]) : t.dims.filter((d) => d !== 1);
        return set({ dims, data: t.data });
      }
      case 'Concat': {
        if (!n.inputs.every((_, i) => known(i))) return false;
        const parts = n.inputs.map((_, i) => take(i));
        if (parts.some((p) => p.dims.length > 1)) return false;
        const data = Float64Array.from(parts.flatMap((p) => Array.from(p.data)));
        return set({ dims: [data.length], data });
      }
      case 'Cast':
      case 'Identity':
        return known(0) ? set(take(0)) : false;
      default:
        return false;
    }
  }

  private pool(n: OnnxNode): string {
    const k = attrInts(n, 'kernel_shape', []), s = attrInts(n, 'strides', [1, 1]);
    const { src, pads: extra } = n.op === 'AveragePool' ? this.paddedSrc(n) : { src: this.src(n), pads: [0, 0, 0, 0] };
    const own = attrInts(n, 'pads', [0, 0, 0, 0]);
    const p = own.map((v, i) => v + extra[i]!);
    const ceil = attrInt(n, 'ceil_mode', 0) === 1;
    if (k.length !== 2 || k[0] !== k[1] || s[0] !== s[1] || new Set(p).size > 1 || (ceil && n.op === 'MaxPool'))
      throw new OnnxError(`node "${n.name}" (${n.op}): only square kernels, equal strides, symmetric pads (a Pad folded in included) and, for AveragePool, ceil_mode are supported`);
    // A zero Pad before an AveragePool counts its zeros: the same as padding that counts.
    const countPad = attrInt(n, 'count_include_pad', 0) === 1 || extra.some((v) => v > 0);
    if (extra.some((v) => v > 0) && own.some((v) => v > 0) && attrInt(n, 'count_include_pad', 0) !== 1)
      throw new OnnxError(`node "${n.name}" (AveragePool): a Pad folded into a pool with its own uncounted pads is not supported`);
    const id = this.id(n);
    if (n.op === 'MaxPool') return this.b.pool(id, src, 'maxpool', k[0]!, s[0]!, p[0]!);
    return this.b.node('avgpool', id, [src], { kernel: k[0]!, stride: s[0]!, padding: p[0]!, countIncludePad: countPad, ceil });
  }

  /** A Pad of zeros on H and W: kept pending for the Conv or AveragePool that reads it. */
  private pad(n: OnnxNode): void {
    if (attrStr(n, 'mode', 'constant') !== 'constant') throw new OnnxError(`node "${n.name}" (Pad): only constant padding is supported`);
    const pads = Array.from(this.constant(n, 1, 'pads').data);
    const value = this.optionalConstant(n, 2, 'constant_value')?.data[0] ?? 0;
    if (n.inputs[3]) throw new OnnxError(`node "${n.name}" (Pad): the axes input is not supported`);
    if (pads.length !== 8 || value !== 0 || pads[0] || pads[1] || pads[4] || pads[5] || pads.some((v) => v < 0))
      throw new OnnxError(`node "${n.name}" (Pad): only zero padding of H and W is supported, got pads [${pads.join(',')}], value ${value}`);
    if (!this.ours.has(n.inputs[0]!)) throw new OnnxError(`node "${n.name}" (Pad) reads "${n.inputs[0]}", which is not computed before it`);
    this.padded.set(n.outputs[0]!, { src: n.inputs[0]!, pads: [pads[2]!, pads[3]!, pads[6]!, pads[7]!] });
  }

  /** Reshape to a folded shape: [N, -1] or [N, F] is a flatten; another static per-image shape a reshape. */
  private reshape(n: OnnxNode, target: Float64Array): string {
    const src = this.src(n), per = this.shapeOf(src), size = shapeSize(per);
    const dims = Array.from(target);
    const batchFirst = Number.isNaN(dims[0]) || dims[0] === 0 || dims[0] === -1;
    if (!batchFirst) throw new OnnxError(`node "${n.name}" (Reshape): the first dimension must stay the batch, got [${dims.map((d) => (Number.isNaN(d) ? 'N' : d)).join(',')}]`);
    let rest = dims.slice(1).map((d, i) => (d === 0 ? per[i]! : d));
    const free = rest.indexOf(-1);
    if (free >= 0) rest[free] = size / shapeSize(rest.filter((_, i) => i !== free));
    if (dims[0] === -1 && free >= 0) throw new OnnxError(`node "${n.name}" (Reshape): two inferred dimensions`);
    if (rest.some((d) => !(Number.isInteger(d) && d > 0)) || shapeSize(rest) !== size)
      throw new OnnxError(`node "${n.name}" (Reshape): cannot reshape [N,${per}] to [${dims.map((d) => (Number.isNaN(d) ? 'N' : d)).join(',')}]`);
    rest = rest.map(Number);
    if (rest.length === 1) return this.b.flatten(this.id(n), src);
    return this.b.node('reshape', this.id(n), [src], { to: rest });
  }

  /** Squeeze / Unsqueeze of a computed tensor: a reshape that drops or adds size-1 dimensions after the batch. */
  private squeeze(n: OnnxNode): string {
    const src = this.src(n), per = this.shapeOf(src);
    const raw = this.opset >= 13 && n.inputs[1] ? Array.from(this.constant(n, 1, 'axes').data) : attrInts(n, 'axes', []);
    // Negative axes count from the end of the input (Squeeze) or of the output (Unsqueeze).
    const rank = 1 + per.length + (n.op === 'Unsqueeze' ? raw.length : 0);
    const axes = raw.map((a) => (a < 0 ? a + rank : a));
    let full = [-1, ...per];
    if (n.op === 'Squeeze') {
      const drop = axes.length ? axes : full.map((d, i) => (d === 1 ? i : -1)).filter((i) => i > 0);
      if (drop.some((a) => a === 0 || full[a] !== 1)) throw new OnnxError(`node "${n.name}" (Squeeze): only size-1 dimensions after the batch can be squeezed`);
      full = full.filter((_, i) => !drop.includes(i));
    } else {
      if (axes.some((a) => a === 0)) throw new OnnxError(`node "${n.name}" (Unsqueeze): the batch stays the first dimension`);
      for (const a of [...axes].sort((x, y) => x - y)) full.splice(a, 0, 1);
    }
    const to = full.slice(1);
    if (to.length === 1) return this.b.flatten(this.id(n), src);
    return this.b.node('reshape', this.id(n), [src], { to });
  }
}

function transpose(a: Float64Array, R: number, C: number): Float32Array {
  const t = new Float32Array(a.length);
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) t[c * R + r] = a[r * C + c]!;
  return t;
}
