import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { decodeFixed, encodeFixed } from '@si/ring';
import { totalBytes, type Cost } from '@si/sharing';
import { classifyCost, compileFixed, fixedForward, publicModel, prepareSecureCost, secureForwardCost, setupSecureCost, twinClassify } from '@si/models';
import { patchReluDrelus, RELU } from '@si/patch-relu';
import { dreluCount, graphOf, loadSpec, loadWeights, randomImages, runLocal, type SessionReport } from '../src/index.ts';

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));

test('three processes over mutually authenticated TLS, --reveal logits: logits match the fixed-point twin, traffic matches the declared costs', async () => {
  const o = { model: 'fmnist-resnet', weights: 'synthetic:ci', spec: 'knapsack:0.1:ci', mode: 'full', batch: 2, reveal: 'logits' };
  const count = 3;
  const r = await runLocal({ ...o, input: { kind: 'random', count, seed: 'ci' }, timeoutSeconds: 60 });
  assert.is(r.images, count);
  assert.is(r.batches, 2);
  assert.is(r.reveal, 'logits');
  assert.is(r.labels.length, count);
  assert.equal(r.labelShape, [count]);

  // The twin on the same images, with the same weights and spec (this test holds both; no party does).
  const graph = graphOf(o.model);
  const spec = loadSpec(graph, o.spec)!;
  const model = compileFixed(graph, loadWeights(graph, o.weights), 12);
  const x = encodeFixed(randomImages([1, 28, 28], count, 'ci'), 12, [count, 1, 28, 28]);
  const twin = decodeFixed(await fixedForward(model, x, { spec: spec.layers }), 12);
  // Full 64-bit comparisons: the sign of every (patch) sum is exact, up to truncation. A patch ReLU decides on the sum of its patch; the secure sum carries the truncation errors of its
  // elements (at most one unit each, upwards), so a patch whose exact sum lies within that of zero can be
  // decided the other way. With this seed a few patches per image are that close (the twin shows it), and
  // each such flip moves the logits by up to about 0.15. Top-1 is compared where the twin's margin exceeds twice that (images 1 and 2 here).
  for (let i = 0; i < count; i++) {
    const row = Array.from(twin.subarray(i * 10, i * 10 + 10));
    const sorted = [...row].sort((a, b) => b - a);
    if (sorted[0]! - sorted[1]! > 0.35) assert.is(r.labels[i], row.indexOf(sorted[0]!), `top-1 of image ${i}`);
    for (let c = 0; c < 10; c++) assert.ok(Math.abs(r.logits![i]![c]! - row[c]!) < 0.3, `image ${i} logit ${c}: ${r.logits![i]![c]} vs ${row[c]}`);
    assert.is(r.labels[i], r.logits![i]!.indexOf(Math.max(...r.logits![i]!)), `label ${i} is the top of the revealed logits`);
  }

  // Bytes: each layer equals its declaration summed over the batches (2 + 1 images); the output stage
  // (the helper-dealt truncation and the opening) likewise; the online phase is their sum; setup is the
  // masked weights plus session agreement.
  const mode = { mode: 'full' as const };
  const cost = (n: number) => secureForwardCost(model, n, { spec: spec.layers, mode, prepared: true });
  const [c2, c1] = [await cost(2), await cost(1)];
  c2.set('output', classifyCost(model, 2, { kind: 'logits' }));
  c1.set('output', classifyCost(model, 1, { kind: 'logits' }));
  let layers = 0;
  for (const L of r.layers) {
    const want = totalBytes(c2.get(L.name)!) + totalBytes(c1.get(L.name)!);
    assert.is(L.bytes, want, `layer ${L.name}`);
    assert.is(L.rounds, c2.get(L.name)!.rounds, `rounds of ${L.name}`);
    layers += want;
  }
  assert.is(r.layers.length, c2.size);
  assert.is(r.layers.at(-1)!.name, 'output');
  assert.is(r.online.bytes, layers, 'online bytes = layers + output stage');
  const sum = (m: Map<string, Cost>) => [...m.values()].reduce((s, c) => s + totalBytes(c), 0);
  assert.is(r.preprocess.bytes, sum(await prepareSecureCost(model, 2)) + sum(await prepareSecureCost(model, 1)), 'preprocessing bytes');
  const weights = [...setupSecureCost(graph).values()].reduce((s, c) => s + totalBytes(c), 0);
  assert.ok(r.setup.bytes >= weights + 6 * 32 && r.setup.bytes < weights + 6 * 32 + 6 * 300, `setup ${r.setup.bytes} vs weights ${weights}`);

  // The knapsack spec keeps about a tenth of the DReLUs.
  let drelus = 0;
  for (const L of graph.reluLayers()) drelus += patchReluDrelus([1, L.channels, L.H, L.W], spec.layers[L.name] ?? new Array(L.channels).fill(RELU));
  assert.is(r.drelus, drelus);
  assert.ok(drelus <= 0.1 * r.relus && drelus > 0.05 * r.relus, `${drelus} of ${r.relus}`);
});

/** `si infer ... --json`, as a user runs it. */
function infer(args: string[]): SessionReport {
  const p = spawnSync(process.execPath, [...process.execArgv, CLI, 'infer', ...args, '--json'], { encoding: 'utf8', timeout: 300_000 });
  assert.is(p.status, 0, `si infer ${args.join(' ')}: ${p.stderr}`);
  return JSON.parse(p.stdout.trim().split('\n').at(-1)!) as SessionReport;
}

test('si infer --json reveals the label only, by default; the client receives the same bytes, layer by layer, whatever the server\'s weights', () => {
  const args = ['--model', 'fmnist-resnet', '--spec', 'knapsack:0.1:ci', '--random', '3', '--seed', 'view', '--batch', '2'];
  const [a, b] = ['synthetic:a', 'synthetic:b'].map((w) => infer([...args, '--weights', w]));
  for (const r of [a!, b!]) {
    assert.is(r.reveal, 'label');
    assert.equal(r.labelShape, [3]);
    assert.ok(r.labels.every((c) => Number.isInteger(c) && c >= 0 && c < 10), `labels ${r.labels}`);
    for (const k of ['logits', 'topk', 'predictions']) assert.not.ok(k in r, `no "${k}" in label mode`);
  }
  assert.equal(a!.parties.client.layersReceived, b!.parties.client.layersReceived);
  assert.is(a!.parties.client.onlineReceived, b!.parties.client.onlineReceived);
  // What the client receives in the output stage: the argmax tree's masked messages and, last, the
  // server's share of the indices (8 bytes per image).
  const out = a!.layers.find((l) => l.name === 'output')!;
  assert.is(out.op, 'argmax');
  const graph = graphOf('fmnist-resnet');
  const model = publicModel(graph, 12);
  const declared = totalBytes(classifyCost(model, 2, { kind: 'label' })) + totalBytes(classifyCost(model, 1, { kind: 'label' }));
  assert.is(out.bytes, declared, 'output stage bytes == declared (argmax + opening of the indices)');
});

test('si infer: MobileNetV2 with ReLU6 end to end, label only, secure top-1 equal to the fixed-point twin', async () => {
  const name = 'mobilenet-v2-relu6-cifar', count = 4;
  const r = infer(['--model', name, '--weights', 'synthetic:0', '--mode', 'full', '--random', String(count), '--seed', 'relu6', '--batch', '4']);
  const graph = graphOf(name);
  assert.ok(graph.reluLayers().every((l) => l.op === 'relu6' && l.clipped));
  // Every ReLU6 is two sign tests per pixel (lower and upper bound).
  assert.is(r.drelus, 2 * r.relus);
  assert.is(dreluCount(graph, null).drelus, r.drelus);
  const model = compileFixed(graph, loadWeights(graph, 'synthetic:0'), 12);
  const x = encodeFixed(randomImages([3, 32, 32], count, 'relu6'), 12, [count, 3, 32, 32]);
  const twin = await twinClassify(model, x, { kind: 'label' });
  // Full mode: secure and twin differ only by the local truncations (one unit each) before the output
  // layer: measured on 16 images, the secure logits stay within 0.0044 of the twin's. These images' top-2
  // margins are 0.12 or more, so top-1 must be equal (and is not the same class for all of them).
  const logits = decodeFixed(await fixedForward(model, x), 12);
  for (let i = 0; i < count; i++) {
    const row = Array.from(logits.subarray(i * 10, (i + 1) * 10)).sort((p, q) => q - p);
    assert.ok(row[0]! - row[1]! > 0.05, `image ${i}: the twin's margin ${row[0]! - row[1]!} is too small for an exact comparison`);
  }
  assert.equal(r.labels, [...twin.labels]);
  assert.ok(new Set(r.labels).size > 1, `labels ${r.labels}`);
});

test.run();
