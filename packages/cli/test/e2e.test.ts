import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeFixed, encodeFixed } from '@si/ring';
import { totalBytes, type Cost } from '@si/sharing';
import { compileFixed, fixedForward, prepareSecureCost, secureForwardCost, setupSecureCost } from '@si/models';
import { patchReluDrelus, RELU } from '@si/patch-relu';
import { graphOf, loadSpec, loadWeights, randomImages, runLocal } from '../src/index.ts';

test('three processes over mutually authenticated TLS: logits match the fixed-point twin, traffic matches the declared costs', async () => {
  const o = { model: 'fmnist-resnet', weights: 'synthetic:ci', spec: 'knapsack:0.1:ci', mode: 'full', batch: 2 };
  const count = 3;
  const r = await runLocal({ ...o, input: { kind: 'random', count, seed: 'ci' }, timeoutSeconds: 60 });
  assert.is(r.images, count);
  assert.is(r.batches, 2);
  assert.is(r.predictions.length, count);

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
    if (sorted[0]! - sorted[1]! > 0.35) assert.is(r.predictions[i], row.indexOf(sorted[0]!), `top-1 of image ${i}`);
    for (let c = 0; c < 10; c++) assert.ok(Math.abs(r.logits[i]![c]! - row[c]!) < 0.3, `image ${i} logit ${c}: ${r.logits[i]![c]} vs ${row[c]}`);
  }

  // Bytes: each layer equals its declaration summed over the batches (2 + 1 images); the whole online
  // phase is those plus revealing the logits; setup is the masked weights plus session agreement.
  const mode = { mode: 'full' as const };
  const cost = (n: number) => secureForwardCost(model, n, { spec: spec.layers, mode, prepared: true });
  const [c2, c1] = [await cost(2), await cost(1)];
  let layers = 0;
  for (const L of r.layers) {
    const want = totalBytes(c2.get(L.name)!) + totalBytes(c1.get(L.name)!);
    assert.is(L.bytes, want, `layer ${L.name}`);
    assert.is(L.rounds, c2.get(L.name)!.rounds, `rounds of ${L.name}`);
    layers += want;
  }
  assert.is(r.layers.length, c2.size);
  assert.is(r.online.bytes, layers + 8 * 10 * count, 'online bytes = layers + logits revealed to the client');
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

test.run();
