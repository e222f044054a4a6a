import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ndarray from 'ndarray';
import { createCA, issueCert } from '@si/net';
import { readImage, writePng } from '@si/images/node';
import type { Role } from '@si/sharing';
import { ASSETS, MODELS, fashionFiles, loadInput, graphOf, loadManifest, logitsArray, readIdx, runParty, type InputSource, type PartyReport, type SessionReport } from '../src/index.ts';

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'si-images-'));
const shipped = ['--model', 'fmnist-resnet', '--weights', `file:${ASSETS.weights6}`, '--spec', `file:${ASSETS.spec6}`];

/** Fashion-MNIST test images written out as PNG files (the test's own fixtures). */
const test10k = readIdx(fashionFiles('test').images).data;
function fashionPng(i: number, name: string): string {
  const path = join(dir, name);
  writePng(path, ndarray(test10k.slice(i * 784, (i + 1) * 784), [28, 28]));
  return path;
}
const si = (...args: string[]) => spawnSync(process.execPath, [...process.execArgv, CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
const json = (p: ReturnType<typeof si>) => JSON.parse(p.stdout.trim().split('\n').at(-1)!) as SessionReport;

test('si infer --image shirt.png prints the same label as the IDX path for that image, and its class name', () => {
  // Test image 4 is a shirt (label 6).
  const shirt = fashionPng(4, 'shirt.png');
  const viaPng = si('infer', ...shipped, '--image', shirt);
  assert.is(viaPng.status, 0, viaPng.stderr);
  assert.match(viaPng.stdout, /shirt\.png\s+6\s+Shirt/);
  const viaIdx = json(si('infer', ...shipped, '--images', fashionFiles('test').images, '--start', '4', '--count', '1', '--json'));
  const png = json(si('infer', ...shipped, '--image', shirt, '--json'));
  assert.equal(png.labels, viaIdx.labels);
  assert.equal(png.results, [{ image: shirt, label: 6, class: 'Shirt' }]);
  assert.equal(viaIdx.results[0]!.class, 'Shirt');
});

test('a corrupt file in a batch of three: one clear error, two results, class names in text and JSON', () => {
  const sub = mkdtempSync(join(dir, 'batch-'));
  const a = join(sub, 'a-boot.png'), c = join(sub, 'c-trouser.png');
  writePng(a, ndarray(test10k.slice(0, 784), [28, 28])); // label 9, Ankle boot
  writeFileSync(join(sub, 'b-broken.png'), Buffer.concat([readFileSync(a).subarray(0, 60), Buffer.from('truncated here')]));
  writePng(c, ndarray(test10k.slice(2 * 784, 3 * 784), [28, 28])); // label 1, Trouser
  const text = si('infer', ...shipped, '--images', sub);
  assert.is(text.status, 0, text.stderr);
  assert.match(text.stdout, /a-boot\.png\s+9\s+Ankle boot/);
  assert.match(text.stdout, /c-trouser\.png\s+1\s+Trouser/);
  assert.match(text.stdout, /skipped: .*b-broken\.png: corrupt or unsupported PNG/);
  const r = json(si('infer', ...shipped, '--images', join(sub, '*.png'), '--json'));
  assert.is(r.images, 2);
  assert.equal(r.results.map((x) => [x.label, x.class]), [[9, 'Ankle boot'], [1, 'Trouser']]);
  assert.is(r.skipped!.length, 1);
  assert.match(r.skipped![0]!.image, /b-broken\.png$/);
});

test('--reveal topk:3 names the three best; --reveal logits adds the score', () => {
  const shirt = fashionPng(4, 'shirt3.png');
  const t = si('infer', ...shipped, '--image', shirt, '--reveal', 'topk:3');
  assert.is(t.status, 0, t.stderr);
  assert.match(t.stdout, /shirt3\.png\s+6 Shirt · \d [A-Za-z/ -]+ · \d [A-Za-z/ -]+/);
  const l = json(si('infer', ...shipped, '--image', shirt, '--reveal', 'logits', '--json'));
  assert.ok(typeof l.results[0]!.score === 'number' && l.results[0]!.score === l.logits![0]![6], JSON.stringify(l.results[0]));
});

test('input errors surface at once, before any party starts: the cause first, no peer timeouts', () => {
  const p = si('infer', '--model', 'fmnist-resnet', '--images', '/etc/passwd');
  assert.is.not(p.status, 0);
  assert.match(p.stderr, /^si: no usable image: \/etc\/passwd: not a PNG or JPEG file$/m);
  assert.not.match(p.stderr, /timed out|timeout/i);
  const w = si('infer', '--model', 'fmnist-resnet', '--random', '1', '--weights', `file:${join(dir, 'missing.safetensors')}`);
  assert.is.not(w.status, 0);
  assert.match(w.stderr, /si: .*server: .*cannot read weights .*missing\.safetensors/);
  assert.not.match(w.stderr, /timed out|helper:/i);
  const m = si('infer', '--model', 'fmnist-resnet', '--random', '1', '--manifest', '/etc/hostname');
  assert.is.not(m.status, 0);
  assert.match(m.stderr, /\/etc\/hostname: the manifest is not JSON/);
});

// From code: the client takes decoded pixels or ready tensors as ndarray views, any strides.
const ca = createCA();
const creds = (role: Role) => ({ ca: ca.cert, ...issueCert(ca, { role, hosts: ['127.0.0.1'] }) });
async function three(input: InputSource, reveal = 'label'): Promise<PartyReport> {
  const base = { model: 'fmnist-resnet', spec: `file:${ASSETS.spec6}`, mode: 'small16', batch: 4, reveal, connectTimeoutSeconds: 10, timeoutSeconds: 30 };
  const local = { host: '127.0.0.1', port: 0 };
  let hp!: (port: number) => void, sp!: (port: number) => void;
  const helperPort = new Promise<number>((r) => (hp = r)), serverPort = new Promise<number>((r) => (sp = r));
  const helper = runParty({ ...base, role: 'helper', tls: creds('helper'), listen: local, deployment: { server: local, helper: local } }, { onListening: hp });
  const h = await helperPort;
  const server = runParty({ ...base, role: 'server', tls: creds('server'), listen: local, weights: `file:${ASSETS.weights6}`, deployment: { server: local, helper: { ...local, port: h } } }, { onListening: sp });
  const s = await serverPort;
  const client = runParty({ ...base, role: 'client', tls: creds('client'), input, deployment: { server: { ...local, port: s }, helper: { ...local, port: h } } });
  const [c] = await Promise.all([client, server, helper]);
  return c;
}

test('runParty from code: ndarray pixels (a transposed view) and a strided [N, C, H, W] tensor give the files\' labels; logits as an ndarray', async () => {
  const files = [fashionPng(0, 'p0.png'), fashionPng(1, 'p1.png'), fashionPng(4, 'p4.png')];
  const viaFiles = await three({ kind: 'files', paths: files });
  assert.equal(viaFiles.labels, [9, 2, 6]);
  // The same pixels stored transposed and viewed back without a copy.
  const views = files.map((f) => {
    const p = readImage(f).pixels;
    const t = new Uint8Array(784);
    for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) t[x * 28 + y] = p.get(y, x, 0) as number;
    return { name: f, pixels: ndarray(t, [28, 28]).transpose(1, 0) };
  });
  const viaPixels = await three({ kind: 'pixels', images: views });
  assert.equal(viaPixels.labels, viaFiles.labels);
  assert.equal(viaPixels.results!.map((r) => r.class), ['Ankle boot', 'Pullover', 'Shirt']);
  // A ready input tensor, every other image of a larger batch: a strided view.
  const graph = graphOf('fmnist-resnet');
  const { x } = loadInput(graph, { kind: 'files', paths: [files[0]!, files[0]!, files[1]!, files[1]!, files[2]!] }, loadManifest('fmnist-resnet', graph));
  const tensor = ndarray(x, [5, 1, 28, 28]).step(2);
  const viaTensor = await three({ kind: 'tensor', x: tensor }, 'logits');
  assert.equal(viaTensor.labels, viaFiles.labels, 'images 0, 2 and 4 of the batch: the three files');
  const logits = logitsArray(viaTensor);
  assert.equal(logits.shape, [3, 10]);
  for (let n = 0; n < 3; n++) {
    const row = Array.from({ length: 10 }, (_, c) => logits.get(n, c));
    assert.is(row.indexOf(Math.max(...row)), viaTensor.labels![n]);
  }
});

test('every built-in model has a shipped manifest that fits it (name, input, number of classes)', () => {
  for (const [name, m] of Object.entries(MODELS)) {
    const graph = graphOf(name);
    const man = loadManifest(name, graph)!;
    assert.ok(man, `${name}: no manifest`);
    assert.is(man.classes!.length, m.classes, `${name}: class names`);
    assert.ok(man.classes!.every((c) => c.length > 0 && !c.includes('_')), `${name}: names are readable`);
  }
  assert.is(loadManifest('resnet50', graphOf('resnet50'))!.classes![281], 'tabby');
});

test.run();
