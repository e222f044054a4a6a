// Synthetic specs: the paper-like one leaves the paper's share of ResNet50's activations in identity
// channels (about 44% at 6%, paper-digest §8.4) under the same DReLU budget as the uncalibrated one.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { kindOf } from '@si/patch-relu';
import { dreluCount, graphOf, loadSpec } from '../src/index.ts';

const identityShare = (model: string, source: string) => {
  const g = graphOf(model), spec = loadSpec(g, source)!;
  let id = 0, all = 0;
  for (const L of g.reluLayers()) for (const s of spec.layers[L.name]!) ((all += L.H * L.W), kindOf(s) === 'identity' && (id += L.H * L.W));
  return { share: id / all, drelus: dreluCount(g, spec).drelus, relus: dreluCount(g, spec).relus };
};

test('paperlike:0.06 on ResNet50: 40-50% of the activations in identity channels, the same budget as knapsack:0.06', () => {
  const fair = identityShare('resnet50', 'paperlike:0.06'), plain = identityShare('resnet50', 'knapsack:0.06');
  assert.ok(fair.share > 0.4 && fair.share < 0.5, `identity share ${fair.share}`);
  assert.ok(plain.share < 0.1, `uncalibrated identity share ${plain.share}`);
  for (const r of [fair, plain]) assert.ok(r.drelus <= Math.floor(0.06 * r.relus) && r.drelus > 0.059 * r.relus, `${r.drelus} DReLUs of ${r.relus}`);
});

test.run();
