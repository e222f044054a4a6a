import { test } from 'uvu';
import * as assert from 'uvu/assert';
import ndarray from 'ndarray';
import { labelColor, labelMapPixels, networkView, overlayPixels, validateManifest } from '../src/index.ts';

test('the VOC colour map: background black, 1 dark red, 2 dark green, 15 (person) pink', () => {
  assert.equal(labelColor(0), [0, 0, 0]);
  assert.equal(labelColor(1), [128, 0, 0]);
  assert.equal(labelColor(2), [0, 128, 0]);
  assert.equal(labelColor(3), [128, 128, 0]);
  assert.equal(labelColor(15), [192, 128, 128]);
  assert.equal(labelColor(20), [0, 64, 128]);
  const px = labelMapPixels([0, 1, 2, 15], 2, 2);
  assert.equal(px.shape, [2, 2, 3]);
  assert.equal([...px.data], [0, 0, 0, 128, 0, 0, 0, 128, 0, 192, 128, 128]);
  assert.throws(() => labelMapPixels([1, 2, 3], 2, 2), /3 labels for a 2x2 map/);
});

test('overlay: the map scaled to the image by nearest neighbour, blended with alpha', () => {
  const m = validateManifest({ format: 'si-model-manifest', version: 1, model: 'm', input: { channels: 3, height: 4, width: 4 }, transforms: [{ resize: 4 }] });
  // An 8x8 white image, viewed as the network saw it (resized to 4x4, still white).
  const view = networkView(ndarray(new Uint8Array(8 * 8 * 3).fill(255), [8, 8, 3]), m);
  assert.equal([view.C, view.H, view.W], [3, 4, 4]);
  // A 2x2 map (class 1 top-left, 0 elsewhere) over the 4x4 view: the top-left 2x2 block is half dark red.
  const o = overlayPixels(view, [1, 0, 0, 0], 2, 2, 0.5);
  assert.equal(o.shape, [4, 4, 3]);
  const at = (y: number, x: number) => [0, 1, 2].map((c) => o.get(y, x, c));
  assert.equal(at(0, 0), [192, 128, 128]);
  assert.equal(at(1, 1), [192, 128, 128]);
  assert.equal(at(0, 2), [128, 128, 128]);
  assert.equal(at(3, 3), [128, 128, 128]);
});

test.run();
