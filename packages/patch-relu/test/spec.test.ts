import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  candidatePatchSizes, kindOf, mergeEqualCost, parseSpec, patchCost, sideSizes, SpecError, stringifySpec, uniformSpec, validateSpec,
} from '../src/index.ts';

const LAYERS = [{ name: 'stem', channels: 3, H: 7, W: 7 }, { name: 'layer1_0_1', channels: 2, H: 14, W: 14 }];

test('specs round-trip through JSON; kinds; uniform specs', () => {
  const spec = { format: 'si-patch-spec', version: 1, model: 'toy', layers: { stem: [[1, 1], [0, 1], [1, 0]], layer1_0_1: [[2, 3], [20, 20]] } };
  const v = validateSpec(spec, LAYERS);
  assert.equal(parseSpec(stringifySpec(v), LAYERS), v);
  assert.equal(v.layers.stem!.map(kindOf), ['relu', 'identity', 'zero']);
  assert.is(kindOf([2, 3]), 'patch');
  assert.equal(uniformSpec('toy', LAYERS).layers.layer1_0_1, [[1, 1], [1, 1]]);
});

test('validation errors name the layer and the channel', () => {
  const base = { format: 'si-patch-spec', version: 1, model: 'toy', layers: { stem: [[1, 1], [1, 1], [1, 1]], layer1_0_1: [[1, 1], [1, 1]] } };
  const bad = (layers: object) => ({ ...base, layers: { ...base.layers, ...layers } });
  const cases: [unknown, RegExp][] = [
    [bad({ stem: [[1, 1], [0, 2], [1, 1]] }), /layer "stem" channel 1: \[0,2\] is not a size; use \[0,1\] for identity or \[1,0\] for a zero channel/],
    [bad({ stem: [[1, 1], [1, 1], [-1, 2]] }), /layer "stem" channel 2: patch sizes are non-negative integers/],
    [bad({ stem: [[1, 1], [1.5, 1], [1, 1]] }), /layer "stem" channel 1/],
    [bad({ stem: [[1, 1], [1, 1]] }), /layer "stem": 2 patch sizes for 3 channels/],
    [bad({ stem: [[1, 1], [1, 1], [1]] }), /layer "stem" channel 2: expected \[ph, pw\]/],
    [bad({ nope: [[1, 1]] }), /layer "nope" is not a ReLU layer of model "toy"/],
    [{ ...base, layers: { stem: base.layers.stem } }, /spec has no entry for layer "layer1_0_1"/],
    [{ ...base, version: 2 }, /unsupported version 2/],
    [{ ...base, format: 'other' }, /"format" must be "si-patch-spec"/],
    [[], /expected a JSON object/],
  ];
  for (const [spec, re] of cases) assert.throws(() => validateSpec(spec, LAYERS), (e: Error) => e instanceof SpecError && re.test(e.message), String(re));
  assert.ok(validateSpec({ ...base, layers: { stem: base.layers.stem } }, LAYERS, { partial: true }));
  assert.throws(() => parseSpec('{oops', LAYERS), /spec is not valid JSON/);
});

test('candidate sizes: one per distinct patch count per side; every size has a same-cost candidate', () => {
  assert.equal(sideSizes(56), [1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 19, 28, 56]);
  assert.equal(sideSizes(7), [1, 2, 3, 4, 7]);
  assert.equal(sideSizes(1), [1]);
  for (const [H, W] of [[7, 7], [14, 14], [28, 28], [32, 32], [56, 56], [5, 9], [1, 1]]) {
    const cands = candidatePatchSizes(H!, W!);
    const counts = new Set(cands.filter((s) => kindOf(s) !== 'identity' && kindOf(s) !== 'zero').map(([a, b]) => `${Math.ceil(H! / a)}x${Math.ceil(W! / b)}`));
    for (let ph = 1; ph <= H! + 3; ph++)
      for (let pw = 1; pw <= W! + 3; pw++) assert.ok(counts.has(`${Math.ceil(H! / ph)}x${Math.ceil(W! / pw)}`), `${ph}x${pw} on ${H}x${W}`);
    assert.equal(cands.slice(-2), [[0, 1], [1, 0]]);
  }
  assert.is(patchCost([3, 3], 7, 7), 9);
  assert.is(patchCost([1, 1], 14, 14), 196);
  assert.is(patchCost([20, 20], 14, 14), 1);
  assert.is(patchCost([0, 1], 14, 14), 0);
  // A clip layer (ReLU6) adds its per-pixel upper clip to every channel that is not zeroed.
  assert.is(patchCost([3, 3], 7, 7, true), 9 + 49);
  assert.is(patchCost([0, 1], 14, 14, true), 196, 'identity: the upper clip only');
  assert.is(patchCost([1, 0], 14, 14, true), 0, 'zero: nothing');
  const merged = mergeEqualCost([
    { size: [1, 2], cost: 8, value: 0.5 }, { size: [2, 1], cost: 8, value: 0.25 }, { size: [0, 1], cost: 0, value: 3 }, { size: [1, 0], cost: 0, value: 2 },
  ]);
  assert.equal(merged.map((o) => o.size), [[1, 0], [2, 1]]);
});

test.run();
