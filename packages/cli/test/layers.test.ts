import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportOnnx, initParams, mobilenetV2 } from '@si/models';

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const si = (...args: string[]) => spawnSync(process.execPath, [...process.execArgv, CLI, ...args], { encoding: 'utf8', timeout: 60_000 });

test('si layers FILE.onnx: the ReLU layers under their module-path names, with channels, H x W, ReLUs and DReLUs', () => {
  const graph = mobilenetV2(10, 32, { relu6: true });
  const file = join(mkdtempSync(join(tmpdir(), 'si-layers-')), 'mbv2.onnx');
  writeFileSync(file, exportOnnx(graph, initParams(graph, 1)));
  const j = si('layers', file, '--json');
  assert.is(j.status, 0, j.stderr);
  const r = JSON.parse(j.stdout) as { model: string; input: number[]; layers: { name: string; op: string; channels: number; H: number; W: number; relus: number; drelus: number }[] };
  assert.equal(r.input, [3, 32, 32]);
  assert.equal(r.layers.map((l) => [l.name, l.op, l.channels, l.H, l.W, l.relus]), graph.reluLayers().map((l) => [l.name, l.op, l.channels, l.H, l.W, l.relus]));
  assert.ok(r.layers.every((l) => l.drelus === 2 * l.relus), 'ReLU6: a lower and an upper sign test per pixel');
  const text = si('layers', file);
  assert.is(text.status, 0, text.stderr);
  const first = graph.reluLayers()[0]!;
  assert.match(text.stdout, new RegExp(`^${first.name.replace(/\./g, '\\.')}\\s+relu6\\s+${first.channels}\\s+${first.H} x ${first.W}\\s+${first.relus.toLocaleString('en-US')}`, 'm'));
  assert.match(text.stdout, new RegExp(`${graph.reluLayers().length} ReLU layers, ${graph.reluCount().toLocaleString('en-US')} ReLUs`));
});

test('si layers: a named architecture works too; a missing file or an unsupported graph is named', () => {
  const ok = si('layers', 'fmnist-resnet', '--json');
  assert.is(ok.status, 0, ok.stderr);
  assert.is(JSON.parse(ok.stdout).layers.reduce((s: number, l: { relus: number }) => s + l.relus, 0), 100_352);
  const missing = si('layers', '/nonexistent/model.onnx');
  assert.is.not(missing.status, 0);
  assert.match(missing.stderr, /cannot read \/nonexistent\/model\.onnx: .*give an ONNX file or one of: fmnist-resnet/);
  const junk = join(mkdtempSync(join(tmpdir(), 'si-layers-')), 'junk.onnx');
  writeFileSync(junk, Buffer.from('not a protobuf at all'));
  const bad = si('layers', junk);
  assert.is.not(bad.status, 0);
  assert.match(bad.stderr, /si: .*(ONNX|protobuf|truncated)/i);
});

test.run();
