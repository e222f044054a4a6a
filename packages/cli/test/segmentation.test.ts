// Segmentation end to end through the si command: a DeepLabV3 network at a size of our choosing, an image
// file in, the label map out at the input's resolution (the secure argmax at 1/8, enlarged by the client),
// the pictures written with --out-png, and the label-map enlargement checked on its own.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { labelColor } from '@si/images';
import { readImage } from '@si/images/node';
import { graphOf } from '../src/index.ts';
import { upsampleLabels } from '../src/labels.ts';

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const si = (...args: string[]) => spawnSync(process.execPath, [...process.execArgv, CLI, ...args], { encoding: 'utf8', timeout: 300_000 });
const example = fileURLToPath(new URL('../assets/examples/scene-0.png', import.meta.url));

test('NAME@HxW sizes a segmentation network; classifiers and bad sizes are refused with the reason', () => {
  const g = graphOf('deeplabv3-r50@512x683');
  assert.equal(g.inputShape, [3, 512, 683]);
  assert.equal(g.outputShape, [21, 64, 86]);
  assert.throws(() => graphOf('resnet50@256x256'), /model "resnet50" takes one input size; only the segmentation networks take @HxW/);
  assert.throws(() => graphOf('deeplabv3-r50@512'), /expected NAME@HxW with H and W in \[8, 4096\]/);
  const r = si('layers', 'deeplabv3-mobilenet-v2@512x683', '--json');
  assert.is(r.status, 0, r.stderr);
  const layers = (JSON.parse(r.stdout) as { layers: { relus: number }[] }).layers;
  assert.is(layers.reduce((s, l) => s + l.relus, 0), 114_422_272, 'the paper\'s ReLU count for its 512x683 ADE20K image');
});

test('label maps are enlarged by nearest with half-pixel centres (each output pixel takes the cell its centre falls in)', () => {
  // 2x3 map to 4x7: rows floor((y + 1/2) 2 / 4) = 0,0,1,1; columns floor((x + 1/2) 3 / 7) = 0,0,1,1,1,2,2.
  const got = upsampleLabels([1, 2, 3, 4, 5, 6], 1, [2, 3], [4, 7]);
  assert.equal(got.slice(0, 7), [1, 1, 2, 2, 2, 3, 3]);
  assert.equal(got.slice(7, 14), [1, 1, 2, 2, 2, 3, 3]);
  assert.equal(got.slice(21), [4, 4, 5, 5, 5, 6, 6]);
  assert.equal(upsampleLabels([7, 8], 2, [1, 1], [2, 2]), [7, 7, 7, 7, 8, 8, 8, 8]);
  assert.throws(() => upsampleLabels([1, 2, 3], 1, [2, 2], [4, 4]), /3 labels are not 1 maps of 2x2/);
});

test('si infer on a segmentation network with an image: the label map at the input\'s size, its classes, and the PNGs (--out-png)', () => {
  const out = mkdtempSync(join(tmpdir(), 'si-seg-'));
  // A Fashion-MNIST scene (64x64 grey) through the small DeepLabV3 whose head is at 16x16.
  const r = si('infer', '--model', 'fmnist-scenes-head', '--image', example, '--spec', 'knapsack:0.06', '--check', '--window-images', '0', '--out-png', out, '--json');
  assert.is(r.status, 0, r.stderr);
  const rep = JSON.parse(r.stdout) as { labels: number[]; labelShape: number[]; labelsFrom: number[]; results: { image: string; classes: { label: number; class: string; pixels: number }[]; pictures: string[] }[]; plaintext: { pixelAgreement: number } };
  const [H, W] = [64, 64];
  assert.equal(rep.labelShape, [1, H, W]);
  assert.equal(rep.labelsFrom, [16, 16]);
  assert.is(rep.labels.length, H * W);
  const res = rep.results[0]!;
  assert.is(res.classes.reduce((s, c) => s + c.pixels, 0), H * W);
  assert.ok(res.classes.every((c) => typeof c.class === 'string' && c.class.length > 0), 'class names from the scenes manifest');
  assert.ok(typeof rep.plaintext.pixelAgreement === 'number');
  // The label-map picture is the revealed map in VOC colours, pixel for pixel; the overlay is the image as the network saw it.
  const [labelsPng, overlayPng] = res.pictures;
  const lp = readImage(labelsPng!).pixels;
  assert.equal(lp.shape.slice(0, 2), [H, W]);
  for (let i = 0; i < H * W; i += 97) {
    const [y, x] = [Math.floor(i / W), i % W];
    assert.equal([lp.get(y, x, 0), lp.get(y, x, 1), lp.get(y, x, 2)], labelColor(rep.labels[i]!), `pixel ${i}`);
  }
  assert.equal(readImage(overlayPng!).pixels.shape.slice(0, 2), [H, W]);
});

test.run();
