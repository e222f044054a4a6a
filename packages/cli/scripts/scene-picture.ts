// The README's segmentation picture: test scenes, their ground truth and the label maps the client learned
// from secure inference (three local processes over TLS), side by side, 4x enlarged, in VOC colours.
//   tsx --conditions=@si/source packages/cli/scripts/scene-picture.ts WEIGHTS SPEC OUT.png [MODEL] [SCENES]
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ndarray from 'ndarray';
import { labelMapPixels } from '@si/images';
import { writePng } from '@si/images/node';
import { loadFashion, makeScenes, runLocal } from '../src/index.ts';

const [weights, spec, out, model = 'fmnist-scenes', count = '3'] = process.argv.slice(2);
if (!weights || !spec || !out) throw new Error('usage: scene-picture.ts WEIGHTS SPEC OUT.png [MODEL] [SCENES]');
const n = Number(count), S = 64, Z = 4, GAP = 8;
const scenes = makeScenes(loadFashion('test'), n, 'scenes/test');
// The client reads the scenes as an IDX file (it is its own process).
const idx = join(mkdtempSync(join(tmpdir(), 'si-picture-')), 'scenes-idx3-ubyte');
const bytes = new Uint8Array(16 + n * S * S), v = new DataView(bytes.buffer);
[0x803, n, S, S].forEach((d, i) => v.setUint32(4 * i, d));
scenes.x.forEach((p, i) => (bytes[16 + i] = Math.round(p * 255)));
writeFileSync(idx, bytes);
const r = await runLocal({ model, weights: `file:${weights}`, spec: `file:${spec}`, input: { kind: 'idx', images: idx }, batch: n });
// Rows: one per scene; columns: the scene, its ground truth, the secure label map.
const W = 3 * S * Z + 2 * GAP, H = n * S * Z + (n - 1) * GAP;
const img = new Uint8Array(H * W * 3).fill(255);
const put = (top: number, left: number, rgb: (y: number, x: number) => [number, number, number]) => {
  for (let y = 0; y < S * Z; y++)
    for (let x = 0; x < S * Z; x++) img.set(rgb(Math.floor(y / Z), Math.floor(x / Z)), ((top + y) * W + left + x) * 3);
};
for (let i = 0; i < n; i++) {
  const top = i * (S * Z + GAP);
  const grey = (y: number, x: number) => Math.round(scenes.x[i * S * S + y * S + x]! * 255);
  const truth = labelMapPixels(scenes.labels.subarray(i * S * S, (i + 1) * S * S), S, S);
  const secure = labelMapPixels(r.labels.slice(i * S * S, (i + 1) * S * S), S, S);
  const rgbOf = (m: typeof truth) => (y: number, x: number): [number, number, number] => [m.get(y, x, 0), m.get(y, x, 1), m.get(y, x, 2)];
  put(top, 0, (y, x) => [grey(y, x), grey(y, x), grey(y, x)]);
  put(top, S * Z + GAP, rgbOf(truth));
  put(top, 2 * (S * Z + GAP), rgbOf(secure));
}
writePng(out, ndarray(img, [H, W, 3]));
let same = 0;
for (let i = 0; i < n * S * S; i++) if (r.labels[i] === scenes.labels[i]) same++;
console.log(JSON.stringify({ out, scenes: n, pixels_equal_truth: same / (n * S * S), bytes_per_scene: (r.online.bytes + r.preprocess.bytes) / n }));
