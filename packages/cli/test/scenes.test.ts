// Segmentation on real images, the whole method at CI size: Fashion-MNIST scenes (checked against an
// independent painter), mean IoU (against a hand count), and through the si commands: train, distortion,
// knapsack at 6%, fine-tuning, and the secure run over TLS against the fixed-point twin.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureFashion, loadFashion } from '../src/index.ts';
import { makeScenes, meanIoU, THRESHOLD } from '../src/scenes.ts';

const dir = ensureFashion();
const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const si = (...args: string[]) => {
  const r = spawnSync(process.execPath, [...process.execArgv, CLI, ...args], { encoding: 'utf8', timeout: 600_000 });
  assert.is(r.status, 0, `si ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, number>;
};

test('scenes: 2-4 items pasted in order, later on top; a pixel is its top item\'s where that item is above the threshold, else background', () => {
  const items = loadFashion('test', { dir, count: 500 });
  const s = makeScenes(items, 40, 'ci');
  const again = makeScenes(items, 40, 'ci');
  assert.ok(s.x.every((v, i) => v === again.x[i]) && s.labels.every((v, i) => v === again.labels[i]), 'a scene is a function of its seed and index');
  assert.ok(makeScenes(items, 1, 'ci', 7).labels.every((v, i) => v === s.labels[7 * 4096 + i]), 'scene 7 alone equals scene 7 of the set');
  for (let n = 0; n < s.N; n++) {
    const p = s.placements[n]!;
    assert.ok(p.length >= 2 && p.length <= 4);
    // Paint it again: the last item covering a pixel (above the threshold) decides it.
    for (let y = 0; y < 64; y++)
      for (let x = 0; x < 64; x++) {
        let v = 0, label = 0;
        for (const { item, top, left } of p) {
          const iy = y - top, ix = x - left;
          if (iy < 0 || iy >= 28 || ix < 0 || ix >= 28) continue;
          const u = items.x[item * 784 + iy * 28 + ix]!;
          if (u > THRESHOLD) (v = u), (label = items.labels[item]! + 1);
        }
        const at = n * 4096 + y * 64 + x;
        if (s.x[at] !== v || s.labels[at] !== label) assert.unreachable(`scene ${n} pixel (${y}, ${x}): ${s.x[at]}/${s.labels[at]} vs ${v}/${label}`);
      }
  }
  const classes = new Set(s.labels);
  assert.ok(classes.has(0) && classes.size >= 8, `classes seen: ${[...classes]}`);
});

test('mean IoU: per class |P and T| / |P or T| over the classes present, by hand', () => {
  // truth 0 0 1 1 2 2; pred 0 1 1 1 2 0: class 0: 1 / 3, class 1: 2 / 3, class 2: 1 / 2; class 3 absent.
  const r = meanIoU([0, 1, 1, 1, 2, 0], [0, 0, 1, 1, 2, 2], 4);
  assert.equal(r.iou, [1 / 3, 2 / 3, 1 / 2, null]);
  assert.ok(Math.abs(r.miou - (1 / 3 + 2 / 3 + 1 / 2) / 3) < 1e-12);
  assert.is(r.pixelAccuracy, 4 / 6);
});

test('the method on scenes through si: train, distortion, knapsack at 6%, fine-tune, and secure label maps equal to the twin\'s', () => {
  const out = mkdtempSync(join(tmpdir(), 'si-scenes-'));
  const w = join(out, 'w.safetensors'), d = join(out, 'd.json'), spec = join(out, 'spec.json'), w6 = join(out, 'w6.safetensors');
  const t = si('train', '--task', 'segmentation', '--steps', '40', '--batch', '16', '--lr', '0.05', '--test-count', '100', '--out', w);
  // All background would score its own IoU over the classes present (about 0.8 / 11): learning beats it.
  const test100 = makeScenes(loadFashion('test', { dir }), 100, 'scenes/test');
  const allBackground = meanIoU(new Uint8Array(test100.labels.length), test100.labels, 11).miou;
  assert.ok(t.test_miou! > allBackground, `mIoU after 40 steps ${t.test_miou} vs all background ${allBackground}`);
  si('distortion', '--task', 'segmentation', '--weights', `file:${w}`, '--method', 'fast', '--images', '4', '--out', d);
  const k = si('knapsack', '--task', 'segmentation', '--distortion', d, '--budget', '0.06', '--out', spec);
  assert.ok(k.drelus! <= 0.06 * k.relus! && k.drelus! > 0.05 * k.relus!, JSON.stringify(k));
  const f = si('finetune', '--task', 'segmentation', '--weights', `file:${w}`, '--spec', `file:${spec}`, '--steps', '15', '--batch', '16', '--test-count', '100', '--out', w6);
  assert.ok(f.after! >= f.before!, `fine-tuning: ${f.before} -> ${f.after}`);
  // The secure run (argmax at the head's 16x16, the map enlarged like the twin's) on 6 test scenes.
  const e = si('eval', '--task', 'segmentation', '--model', 'fmnist-scenes-head', '--weights', `file:${w6}`, '--spec', `file:${spec}`, '--secure', '--limit', '6', '--batch', '3', '--json');
  assert.is(e.images, 6);
  // The secure logits differ from the twin's by the documented truncation error (a few units of 2^-12);
  // a network trained for 40 steps has near-tied logits on some pixels, where that flips the argmax (one
  // CI run saw 99.35% equal, other runs >= 99.9%). The trained network's figure is 99.957% (README).
  assert.ok(e.pixel_agreement! >= 0.99, `secure pixels equal to the twin's: ${e.pixel_agreement}`);
  assert.ok(Math.abs(e.miou! - e.plain_miou!) < 0.02, `secure mIoU ${e.miou} vs twin ${e.plain_miou}`);
});

test.run();
