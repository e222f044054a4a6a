import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { forward } from '@si/models';
import { ASSETS, fashionFiles, graphOf, idxImages, loadWeights, windowCheck } from '../src/index.ts';

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const si = (...args: string[]) => spawnSync(process.execPath, [...process.execArgv, CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
const shipped = ['--model', 'fmnist-resnet', '--weights', `file:${ASSETS.weights6}`, '--spec', `file:${ASSETS.spec6}`];

test('si check on the shipped 6% network: a row per comparing layer of the spec, the worst layer is the max, small16 keeps nearly everything in the window', () => {
  const r = si('check', ...shipped, '--limit', '40', '--json');
  assert.is(r.status, 0, r.stderr);
  const c = JSON.parse(r.stdout) as { images: number; mode: string; window: { limit: number }; layers: { name: string; kind: string; compared: number; out_of_window: number; beyond_range: number; sign_error_rate: number }[]; max_out_of_window: number; max_sign_error_rate: number };
  assert.is(c.images, 40);
  assert.is(c.window.limit, 128);
  assert.is(c.layers.length, graphOf('fmnist-resnet').reluLayers().length);
  for (const l of c.layers) {
    assert.ok(l.compared > 0 && l.out_of_window >= l.beyond_range && l.out_of_window < 1e-3, `${l.name}: ${JSON.stringify(l)}`);
    assert.is(l.kind, 'patch', l.name);
  }
  assert.is(c.max_out_of_window, Math.max(...c.layers.map((l) => l.out_of_window)));
  assert.is(c.max_sign_error_rate, Math.max(...c.layers.map((l) => l.sign_error_rate)));
  assert.is((c as unknown as { max_wrap_error_rate: number }).max_wrap_error_rate, 0, 'nothing beyond the range, so nothing wraps');
  const table = si('check', ...shipped, '--limit', '8');
  assert.is(table.status, 0, table.stderr);
  assert.match(table.stdout, /layer3\.1\.relu2\s+patch/);
  assert.match(table.stdout, /worst layer: .* out of window/);
});

test('out-of-window fraction of a plain ReLU layer equals a count on the float activations (narrow mode small:4:8, exact on [-0.5, -2^-8) and [0, 0.5 - 2^-8))', async () => {
  const graph = graphOf('fmnist-resnet');
  const N = 16, { x } = idxImages(fashionFiles('test').images, 0, N);
  const weights = `file:${ASSETS.weights}`;
  const c = await windowCheck({ model: 'fmnist-resnet', weights, mode: 'small:4:8', input: { kind: 'idx', images: fashionFiles('test').images, count: N } });
  const stem = c.layers.find((l) => l.name === 'stem.relu')!;
  assert.is(stem.kind, 'relu');
  const pre = graph.node('stem.relu').inputs[0]!;
  const v = forward(graph, loadWeights(graph, weights), x, N, { capture: [pre] }).captured.get(pre)!;
  // small:4:8 at f = 12 is exact on [-2^(d+k-1), -2^d - 1] and [0, (2^(k-1) - 1) 2^d - 1] in ring units
  // (relu-protocols' exactDomain): [-0.5, -2^-8) and [0, 0.5 - 2^-8) in real units.
  const lo = -0.5, hi = 0.5 - 2 ** -8, sliver = -(2 ** -8);
  // The twin's fixed-point activations differ from float32 by rounding through the layers (a few 2^-12):
  // values that close to an edge may land on either side, so they are the tolerance.
  const eps = 2 ** -9, edges = [lo, hi, sliver, 0];
  let out = 0, beyond = 0, near = 0;
  for (const a of v) {
    if (edges.some((e) => Math.abs(a - e) <= eps)) near++;
    if (a >= hi || a < lo) beyond++;
    if (a >= hi || a < lo || (a < 0 && a >= sliver)) out++;
  }
  assert.is(stem.compared, v.length);
  assert.ok(near < 0.01 * v.length && near < out / 20, `${near} values near an edge`);
  assert.ok(Math.abs(stem.out_of_window * v.length - out) <= near, `${stem.out_of_window * v.length} vs ${out} (${near} near an edge)`);
  assert.ok(Math.abs(stem.beyond_range * v.length - beyond) <= near, `${stem.beyond_range * v.length} vs ${beyond} (${near} near an edge)`);
  assert.ok(beyond > 100, 'the narrow window must cut real activations for this test to mean anything');
  // Beyond the range a K-bit window wraps: about half of those signs come out wrong; in the sliver a
  // negative passes. The simulated rate lies between the two.
  assert.ok(stem.sign_error_rate > 0.3 * beyond / v.length && stem.sign_error_rate <= out / v.length + 1e-3, JSON.stringify(stem));
});

test('si check --max-sign-errors exits 2 naming the layers above; si infer warns, and --strict refuses before any party starts', () => {
  const narrow = si('check', ...shipped, '--limit', '8', '--mode', 'small:4:8', '--max-sign-errors', '0.0001');
  assert.is(narrow.status, 2, narrow.stderr);
  assert.match(narrow.stderr, /stem\.relu.*above --max-sign-errors 0\.0001/);
  const args = ['infer', ...shipped, '--images', fashionFiles('test').images, '--count', '2', '--mode', 'small:4:8', '--max-sign-errors', '0.0001'];
  const strict = si(...args, '--strict');
  assert.is(strict.status, 1);
  assert.match(strict.stderr, /warning: layer stem\.relu \(patch\) has a predicted rate of wrapped signs of/);
  assert.match(strict.stderr, /--strict: \d+ layers? above --max-sign-errors 0\.0001 .*nothing was run/);
  assert.not.match(strict.stderr, /secure inference/);
  const warned = si(...args, '--json');
  assert.is(warned.status, 0, warned.stderr);
  assert.match(warned.stderr, /warning: layer stem\.relu/);
  const report = JSON.parse(warned.stdout) as { window: { images: number; above: string[] }; images: number };
  assert.is(report.images, 2);
  assert.is(report.window.images, 2);
  assert.ok(report.window.above.includes('stem.relu'));
  const quiet = si('infer', ...shipped, '--images', fashionFiles('test').images, '--count', '2', '--strict', '--json');
  assert.is(quiet.status, 0, quiet.stderr);
  assert.not.match(quiet.stderr, /warning/);
});

test('si check refuses a model whose input is not Fashion-MNIST-shaped without --images, and a bad rate', () => {
  const r = si('check', '--model', 'resnet18-cifar', '--weights', 'synthetic:0');
  assert.is(r.status, 1);
  assert.match(r.stderr, /takes 3x32x32 inputs: give calibration images with --images/);
  const bad = si('check', ...shipped, '--max-sign-errors', 'lots');
  assert.not.equal(bad.status, 0);
  assert.match(bad.stderr, /expected a rate in \[0, 1\], got "lots"/);
});

test.run();
