import { test } from 'uvu';
import * as assert from 'uvu/assert';
import seedrandom from 'seedrandom';
import {
  forward, fmnistResNet, importOnnx, initParams, loadParams, OnnxError, readSafetensors, SafetensorsError,
  saveParams, writeSafetensors, type Params,
} from '../src/index.ts';
import { nodeProto, onnxModel, tinyNative } from './onnx-fixture.ts';

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

test('an ONNX file built here imports and computes what the native definition computes', () => {
  // The same network written with the builder; the ONNX file upsamples its 2x2 max-pool output with scales 2.
  const native = tinyNative();
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
