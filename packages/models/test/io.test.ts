import { test } from 'uvu';
import * as assert from 'uvu/assert';
import seedrandom from 'seedrandom';
import {
  forward, fmnistResNet, GraphBuilder, importOnnx, initParams, loadParams, OnnxError, ProtobufWriter as W, readSafetensors, SafetensorsError,
  saveParams, writeSafetensors, type Params,
} from '../src/index.ts';

const r = seedrandom('io');
const rand = (n: number, s = 1) => Float32Array.from({ length: n }, () => (r() * 2 - 1) * s);

test('safetensors: parameters round-trip; every tensor checked and used', () => {
  const g = fmnistResNet();
  const params = initParams(g, 7);
  const bytes = saveParams(g, params, { note: 'test' });
  const back = loadParams(g, bytes);
  assert.is(back.metadata.model, 'fmnist_resnet');
  assert.is(back.metadata.note, 'test');
  for (const [k, v] of params) assert.equal([...back.params.get(k)!], [...v], k);
  const x = rand(2 * 784);
  assert.equal([...forward(g, back.params, x, 2).out], [...forward(g, params, x, 2).out]);
  // The reader's own view: header, offsets, sizes.
  const { tensors } = readSafetensors(bytes);
  assert.equal(tensors.get('fc.weight')!.shape, [10, 64]);
  assert.is(((8 + new DataView(bytes.buffer).getUint32(0, true)) % 8), 0, 'data is 8-byte aligned');
});

test('safetensors: truncated, malformed and mismatched files give errors that name the tensor', () => {
  const g = fmnistResNet();
  const bytes = saveParams(g, initParams(g));
  const fail = (b: Uint8Array, re: RegExp) => assert.throws(() => loadParams(g, b), (e: Error) => e instanceof SafetensorsError && re.test(e.message), String(re));
  fail(bytes.subarray(0, 5), /file too short/);
  fail(bytes.subarray(0, 100), /file truncated: header says \d+ bytes/);
  fail(bytes.subarray(0, bytes.length - 4), /tensor "fc.bias": data ends at byte \d+, file has \d+ \(truncated\)/);
  const one = writeSafetensors([['a', { shape: [2], data: Float32Array.of(1, 2) }]]);
  const text = new TextDecoder().decode(one.subarray(8, 8 + new DataView(one.buffer).getUint32(0, true)));
  const patched = (h: string) => {
    const hb = new TextEncoder().encode(h);
    const out = new Uint8Array(8 + hb.length + 8);
    new DataView(out.buffer).setUint32(0, hb.length, true);
    out.set(hb, 8);
    return out;
  };
  assert.throws(() => readSafetensors(patched(text.replace('[0,8]', '[0,12]'))), /tensor "a": 12 bytes for 2 F32 values \(8 needed\)/);
  assert.throws(() => readSafetensors(patched(text.replace('F32', 'Q8'))), /tensor "a": unsupported dtype "Q8"/);
  assert.throws(() => readSafetensors(patched('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}')), /tensors "a" and "b" overlap/);
  assert.throws(() => readSafetensors(patched('{oops')), /header is not valid JSON/);
  const extra = new Map(initParams(g));
  const withExtra = writeSafetensors([...g.params().map((p) => [p.name, { shape: p.shape, data: extra.get(p.name)! }] as [string, { shape: number[]; data: Float32Array }]), ['stray', { shape: [1], data: Float32Array.of(0) }]]);
  fail(withExtra, /the file has tensors model "fmnist_resnet" does not use: stray/);
  const missing = writeSafetensors(g.params().slice(1).map((p) => [p.name, { shape: p.shape, data: extra.get(p.name)! }] as [string, { shape: number[]; data: Float32Array }]));
  fail(missing, /model "fmnist_resnet" needs "stem.conv.weight" \[16,1,3,3\], which the file does not have/);
});

// --- a hand-built ONNX file (the layout a PyTorch export produces) --------------------------------------

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
function nodeProto(op: string, name: string, inputs: string[], outputs: string[], attrs: W[] = []): W {
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
function onnxModel(p: Params, opset = 13, extraNode?: W): Uint8Array {
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

test('an ONNX file built here imports and computes what the native definition computes', () => {
  // The same network written with the builder; the ONNX file upsamples its 2x2 max-pool output with scales 2.
  const b = new GraphBuilder('tiny', [3, 8, 8]);
  const r1 = b.relu('relu1', b.batchnorm('bn1', b.conv('conv1', b.input, { out: 4, kernel: 3, padding: 1 })), 'relu1');
  const a = b.add('add', b.conv('conv2', r1, { out: 4, kernel: 3, padding: 1, groups: 2, bias: true }), r1);
  const r6 = b.relu('relu6', a, 'relu6', true);
  const p1 = b.pool('avg', r6, 'avgpool', 3, 2, 1, true);
  const u = b.resize('up', b.pool('max', r6, 'maxpool', 2, 4), [4, 4], 'bilinear');
  const native = b.build(b.linear('fc', b.flatten('flat', b.gap('gap', b.concat('cat', [p1, u]))), 5));
  const params = initParams(native, 3);
  for (const [k, v] of params) if (!k.includes('running_var')) v.set(rand(v.length, 0.5));
  const imported = importOnnx(onnxModel(params));
  assert.is(imported.opset, 13);
  assert.equal(imported.graph.reluLayers().map((l) => [l.name, l.channels, l.H]), [['relu1', 4, 8], ['relu6', 4, 8]]);
  const x = rand(2 * 3 * 64);
  const want = forward(native, params, x, 2).out, got = forward(imported.graph, imported.params, x, 2).out;
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(want[i]! - got[i]!) < 1e-5, `logit ${i}: ${got[i]} vs ${want[i]}`);
});

test('unsupported ops, old opsets and truncated files are refused with clear errors', () => {
  const params: Params = new Map([
    ['conv1.weight', rand(108)], ['bn1.weight', rand(4)], ['bn1.bias', rand(4)], ['bn1.running_mean', rand(4)], ['bn1.running_var', Float32Array.of(1, 1, 1, 1)],
    ['conv2.weight', rand(72)], ['conv2.bias', rand(4)], ['fc.weight', rand(40)], ['fc.bias', rand(5)],
  ]);
  const sigmoid = nodeProto('Sigmoid', 'gate', ['r1'], ['s']);
  assert.throws(() => importOnnx(onnxModel(params, 13, sigmoid)), (e: Error) => e instanceof OnnxError && /unsupported ONNX op "Sigmoid" at node "gate"/.test(e.message));
  assert.throws(() => importOnnx(onnxModel(params, 9)), /ONNX opset 9 is not supported \(need 11 or later/);
  const full = onnxModel(params);
  assert.throws(() => importOnnx(full.subarray(0, full.length - 100)), (e: Error) => e instanceof OnnxError && /malformed or truncated ONNX file/.test(e.message));
  assert.throws(() => importOnnx(Uint8Array.of(1, 2, 3)), (e: Error) => e instanceof OnnxError);
});

test.run();
