// ONNX files laid out as torch.onnx.export writes them (module-path node names, Constant nodes for Clip's
// bounds and shape arithmetic, int64 shape tensors, BatchNormalization kept or folded into the convs),
// imported here and run against onnxruntime-node, an independent implementation of ONNX.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import seedrandom from 'seedrandom';
import * as ort from 'onnxruntime-node';
import { decodeFixed, encodeFixed } from '@si/ring';
import { compileFixed, exportOnnx, fixedForward, forward, importOnnx, initParams, mobilenetV2, OnnxError, resnet18Cifar, type Graph, type Params } from '../src/index.ts';
import { onnxAttr as A, OnnxGraph } from './onnx-fixture.ts';

/** Runs a model file in onnxruntime (one thread) on x [N, C, H, W]. */
async function ortRun(bytes: Uint8Array, x: Float32Array, dims: number[], name = 'x'): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const out = await s.run({ [name]: new ort.Tensor('float32', x, dims) });
  return out[s.outputNames[0]!]!.data as Float32Array;
}

/** max |a - b| / max |b|. */
function relDiff(a: Float32Array, b: Float32Array): number {
  assert.is(a.length, b.length, 'output sizes');
  let d = 0, m = 0;
  for (let i = 0; i < a.length; i++) (d = Math.max(d, Math.abs(a[i]! - b[i]!))), (m = Math.max(m, Math.abs(b[i]!)));
  return d / m;
}

const input = (N: number, C: number, H: number, W: number, seed: string) => {
  const r = seedrandom(seed);
  return { x: Float32Array.from({ length: N * C * H * W }, () => r() * 2 - 1), dims: [N, C, H, W] };
};

/** torchvision's ResNet stem and first BasicBlock (relu used twice), then avgpool and x.view(x.size(0), -1) into fc. */
function resnetBlock(folded: boolean): Uint8Array {
  const r = seedrandom(`resnet${folded}`);
  const g = new OnnxGraph(17);
  const cb = (scope: string, key: string, x: string, cin: number, cout: number, bnScope: string, bnKey: string) => {
    const y = g.conv([scope, key], x, cin, cout, 3, r, { pad: 1, bias: folded });
    return folded ? y : g.bn([bnScope, bnKey], y, cout, r);
  };
  let x = cb('/conv1', 'conv1', 'x', 3, 8, '/bn1', 'bn1');
  x = g.node('Relu', '/relu/Relu', [x]);
  let y = cb('/layer1/layer1.0/conv1', 'layer1.0.conv1', x, 8, 8, '/layer1/layer1.0/bn1', 'layer1.0.bn1');
  y = g.node('Relu', '/layer1/layer1.0/relu/Relu', [y]);
  y = cb('/layer1/layer1.0/conv2', 'layer1.0.conv2', y, 8, 8, '/layer1/layer1.0/bn2', 'layer1.0.bn2');
  y = g.node('Add', '/layer1/layer1.0/Add', [y, x]);
  y = g.node('Relu', '/layer1/layer1.0/relu/Relu_1', [y]);
  const pooled = g.node('GlobalAveragePool', '/avgpool/GlobalAveragePool', [y]);
  // x.view(x.size(0), -1): Shape, Gather(0), Unsqueeze, Concat with -1, Reshape.
  const shape = g.node('Shape', '/Shape', [pooled]);
  const n = g.node('Gather', '/Gather', [shape, g.constant([], [0], true)], undefined, [A.int('axis', 0)]);
  const un = g.node('Unsqueeze', '/Unsqueeze', [n, g.constant([1], [0], true)]);
  const target = g.node('Concat', '/Concat', [un, g.constant([1], [-1], true)], undefined, [A.int('axis', 0)]);
  const flat = g.node('Reshape', '/Reshape', [pooled, target]);
  g.init('fc.weight', [10, 8], Float32Array.from({ length: 80 }, () => r() - 0.5));
  g.init('fc.bias', [10], Float32Array.from({ length: 10 }, () => r() - 0.5));
  const out = g.node('Gemm', '/fc/Gemm', [flat, 'fc.weight', 'fc.bias'], ['logits'], [A.flt('alpha', 1), A.flt('beta', 1), A.int('transB', 1)]);
  return g.finish('x', ['batch', 3, 8, 8], out, ['batch', 10]);
}

/**
 * torchvision's MobileNetV2 InvertedResidual (expand 1x1, depthwise 3x3, project 1x1, ReLU6 as Clip with
 * Constant bounds, residual Add), a Clip(0, 3.5), a Pad before a ceil-mode AveragePool, then
 * x.mean([2, 3]) (ReduceMean, keepdims 0) into the classifier.
 */
function invertedResidual(opset: number): Uint8Array {
  const r = seedrandom(`mnv2-${opset}`);
  const g = new OnnxGraph(opset);
  const clip = (name: string, x: string, hi: number) => g.node('Clip', name, [x, g.constant([], [0]), g.constant([], [hi])]);
  const p = '/features/features.1/conv';
  let y = g.bn([`${p}/conv.0/conv.0.1`, 'features.1.conv.0.1'], g.conv([`${p}/conv.0/conv.0.0`, 'features.1.conv.0.0'], 'x', 8, 24, 1, r), 24, r);
  y = clip(`${p}/conv.0/conv.0.2/Clip`, y, 6);
  y = g.bn([`${p}/conv.1/conv.1.1`, 'features.1.conv.1.1'], g.conv([`${p}/conv.1/conv.1.0`, 'features.1.conv.1.0'], y, 24, 24, 3, r, { pad: 1, group: 24 }), 24, r);
  y = clip(`${p}/conv.1/conv.1.2/Clip`, y, 6);
  y = g.bn([`${p}/conv.3`, 'features.1.conv.3'], g.conv([`${p}/conv.2`, 'features.1.conv.2'], y, 24, 8, 1, r), 8, r);
  y = g.node('Add', '/features/features.1/Add', ['x', y]);
  y = clip('/act/Clip', y, 3.5);
  const padded = g.node('Pad', '/pool/Pad', [y, g.ints('pads', [0, 0, 1, 1, 0, 0, 1, 1])], undefined, [A.strA('mode', 'constant')]);
  y = g.node('AveragePool', '/pool/AveragePool', [padded], undefined, [A.ints('kernel_shape', [3, 3]), A.ints('strides', [2, 2]), A.int('ceil_mode', 1)]);
  const mean = opset >= 18
    ? g.node('ReduceMean', '/ReduceMean', [y, g.ints('axes', [2, 3])], undefined, [A.int('keepdims', 0)])
    : g.node('ReduceMean', '/ReduceMean', [y], undefined, [A.ints('axes', [2, 3]), A.int('keepdims', 0)]);
  g.init('classifier.1.weight', [7, 8], Float32Array.from({ length: 56 }, () => r() - 0.5));
  g.init('classifier.1.bias', [7], Float32Array.from({ length: 7 }, () => r() - 0.5));
  const out = g.node('Gemm', '/classifier/classifier.1/Gemm', [mean, 'classifier.1.weight', 'classifier.1.bias'], ['logits'], [A.int('transB', 1)]);
  return g.finish('x', ['batch', 8, 10, 10], out, ['batch', 7]);
}

async function sameAsOrt(bytes: Uint8Array, x: Float32Array, dims: number[]): Promise<{ graph: Graph; params: Params; diff: number }> {
  const { graph, params } = importOnnx(bytes);
  const want = await ortRun(bytes, x, dims);
  const got = forward(graph, params, x, dims[0]!).out;
  const diff = relDiff(got, want);
  assert.ok(diff < 1e-5, `max |diff| / max |logit| = ${diff}`);
  return { graph, params, diff };
}

test('a ResNet block as torch exports it (BatchNormalization kept, and folded) equals onnxruntime; names follow the module path', async () => {
  for (const folded of [false, true]) {
    const { x, dims } = input(3, 3, 8, 8, 'rx');
    const { graph, params } = await sameAsOrt(resnetBlock(folded), x, dims);
    assert.equal(graph.reluLayers().map((l) => l.name), ['relu', 'layer1.0.relu', 'layer1.0.relu:1']);
    const keys = [...params.keys()];
    assert.ok(keys.includes('layer1.0.conv2.weight') && keys.includes('fc.bias'), keys.join(' '));
    if (!folded) assert.ok(keys.includes('layer1.0.bn1.running_var'));
  }
});

test('a MobileNetV2 inverted residual with ReLU6 (Constant-fed Clip), Clip(0, 3.5), Pad + ceil-mode AveragePool and ReduceMean equals onnxruntime (opsets 13 and 18)', async () => {
  for (const opset of [13, 18]) {
    const { x, dims } = input(2, 8, 10, 10, `mx${opset}`);
    const { graph, params } = await sameAsOrt(invertedResidual(opset), x, dims);
    assert.equal(graph.reluLayers().map((l) => [l.name, l.op]), [['features.1.conv.0.2', 'relu6'], ['features.1.conv.1.2', 'relu6'], ['act', 'clip']]);
    assert.equal(graph.node('pool').op, 'avgpool');
    // The fixed-point twin of the imported network (ReLU6 and the clip compile) stays close to float.
    const model = compileFixed(graph, params, 12);
    const twin = decodeFixed(await fixedForward(model, encodeFixed(x, 12, dims)), 12);
    assert.ok(relDiff(Float32Array.from(twin), forward(graph, params, x, dims[0]!).out) < 0.01, 'twin vs float');
  }
});

test('AveragePool in ceil mode with its own pads, counting them or not, equals onnxruntime', async () => {
  for (const count of [0, 1]) {
    for (const [H, k, st, pad] of [[10, 3, 2, 1], [7, 2, 2, 0], [11, 3, 3, 1]] as const) {
      const g = new OnnxGraph(17);
      const y = g.node('AveragePool', '/p/AveragePool', ['x'], undefined, [A.ints('kernel_shape', [k, k]), A.ints('strides', [st, st]), A.ints('pads', [pad, pad, pad, pad]), A.int('ceil_mode', 1), A.int('count_include_pad', count)]);
      const bytes = g.finish('x', ['batch', 2, H, H], y, ['batch', 2, 'h', 'w']);
      const { x, dims } = input(2, 2, H, H, `ap${H}${count}`);
      await sameAsOrt(bytes, x, dims);
    }
  }
});

test('exportOnnx: ResNet18-CIFAR and a ReLU6 MobileNetV2 run in onnxruntime as in the float engine, and import back to the same network', async () => {
  for (const graph of [resnet18Cifar(10, 16), mobilenetV2(10, 32, { relu6: true })]) {
    const params = initParams(graph, 5);
    const bytes = exportOnnx(graph, params);
    const [C, H, W] = graph.inputShape as [number, number, number];
    const { x, dims } = input(2, C, H, W, graph.name);
    const want = forward(graph, params, x, 2).out;
    const ortOut = await ortRun(bytes, x, dims, graph.input);
    assert.ok(relDiff(ortOut, want) < 1e-5, `${graph.name}: onnxruntime vs engine ${relDiff(ortOut, want)}`);
    const back = importOnnx(bytes);
    assert.equal(back.graph.reluLayers().map((l) => [l.name, l.op]), graph.reluLayers().map((l) => [l.name, l.op]));
    assert.ok(relDiff(forward(back.graph, back.params, x, 2).out, want) < 1e-6, `${graph.name}: round trip`);
  }
});

test('what an exporter writes but the importer cannot take is refused by name and node', async () => {
  const g = new OnnxGraph(17);
  g.node('Pad', '/p/Pad', ['x', g.ints('pads', [0, 0, 1, 1, 0, 0, 1, 1])]);
  const bad = g.node('MaxPool', '/p/MaxPool', ['t0'], undefined, [A.ints('kernel_shape', [2, 2]), A.ints('strides', [2, 2])]);
  assert.throws(() => importOnnx(g.finish('x', ['batch', 1, 4, 4], bad, ['batch', 1, 2, 2])), (e: Error) => e instanceof OnnxError && /node "\/p\/MaxPool" \(MaxPool\) reads the output of a Pad; only a Conv or an AveragePool can absorb a Pad/.test(e.message));
  const h = new OnnxGraph(17);
  const c = h.node('Clip', '/c/Clip', ['x', h.constant([], [-1]), h.constant([], [1])]);
  assert.throws(() => importOnnx(h.finish('x', ['batch', 1, 4, 4], c, ['batch', 1, 4, 4])), /node "\/c\/Clip" \(Clip\): only Clip\(0, t\) with t > 0/);
  const k = new OnnxGraph(17);
  const rs = k.node('Reshape', '/r/Reshape', ['x', k.ints('s', [2, -1])]);
  assert.throws(() => importOnnx(k.finish('x', ['batch', 1, 4, 4], rs, [2, 8])), /node "\/r\/Reshape" \(Reshape\): the first dimension must stay the batch/);
});

test.run();
