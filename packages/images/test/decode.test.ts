import { test } from 'uvu';
import * as assert from 'uvu/assert';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import ndarray from 'ndarray';
import { decodeImage, encodePng } from '../src/node.ts';
import { ImageError } from '../src/index.ts';

// Fixtures made here with the encoder libraries themselves (pngjs, jpeg-js): pixels in, file bytes out.
function png(W: number, H: number, colorType: 0 | 2 | 4 | 6, bitDepth: 8 | 16, rgba: number[]): Uint8Array {
  const p = new pngjs.PNG({ width: W, height: H, bitDepth, colorType, inputColorType: 6 });
  p.data = Buffer.from((bitDepth === 16 ? new Uint16Array(rgba) : new Uint8Array(rgba)).buffer);
  return new Uint8Array(pngjs.PNG.sync.write(p, { bitDepth, colorType, inputColorType: 6 }));
}
const all = (a: ndarray.NdArray) => {
  const out: number[] = [];
  const [H, W, C] = a.shape as [number, number, number];
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let c = 0; c < C; c++) out.push(a.get(y, x, c) as number);
  return out;
};

test('PNG grey, RGB, RGBA, grey + alpha, 16-bit: the expected pixels, alpha dropped, 16 bits kept', () => {
  // 2 x 1 images; RGBA input to the encoder.
  const px = [10, 20, 30, 255, 200, 100, 50, 128];
  // (pngjs blends a translucent input over white when it writes a file without alpha: opaque input here.)
  const rgb = decodeImage(png(2, 1, 2, 8, [10, 20, 30, 255, 200, 100, 50, 255]));
  assert.is(rgb.format, 'png');
  assert.equal(rgb.pixels.shape, [1, 2, 3]);
  assert.equal(all(rgb.pixels), [10, 20, 30, 200, 100, 50]);
  const rgba = decodeImage(png(2, 1, 6, 8, px));
  assert.equal(all(rgba.pixels), [10, 20, 30, 200, 100, 50], 'RGBA: alpha dropped, colours as stored');
  const grey = decodeImage(png(2, 1, 0, 8, [7, 7, 7, 255, 250, 250, 250, 255]));
  assert.equal(grey.pixels.shape, [1, 2, 1]);
  assert.equal(all(grey.pixels), [7, 250]);
  const greyA = decodeImage(png(2, 1, 4, 8, [7, 7, 7, 0, 250, 250, 250, 9]));
  assert.equal(all(greyA.pixels), [7, 250]);
  const g16 = decodeImage(png(2, 1, 0, 16, [4660, 4660, 4660, 65535, 65535, 65535, 65535, 65535]));
  assert.is(g16.depth, 16);
  assert.ok(g16.pixels.data instanceof Uint16Array);
  assert.equal(all(g16.pixels), [4660, 65535]);
  const c16 = decodeImage(png(2, 1, 6, 16, [1000, 2000, 3000, 65535, 65535, 0, 7, 1]));
  assert.equal(all(c16.pixels), [1000, 2000, 3000, 65535, 0, 7]);
});

test('encodePng round trip (grey, RGB, RGBA, 16-bit), strided input', () => {
  const rgb = ndarray(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]), [2, 2, 3]);
  assert.equal(all(decodeImage(encodePng(rgb)).pixels), all(rgb));
  const t = rgb.transpose(1, 0, 2); // a transposed view, no copy
  assert.equal(all(decodeImage(encodePng(t)).pixels), all(t));
  const g16 = ndarray(new Uint16Array([0, 65535, 256, 1]), [2, 2]);
  const back = decodeImage(encodePng(g16));
  assert.is(back.depth, 16);
  assert.equal(all(back.pixels), [0, 65535, 256, 1]);
});

test('JPEG: decodes to the encoded picture (quality 100, within JPEG error); flat colours exact to a level', () => {
  const W = 16, H = 8;
  const rgba = new Uint8Array(4 * W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) rgba.set([8 * x, 16 * y, 100, 255], 4 * (y * W + x));
  const bytes = new Uint8Array(jpeg.encode({ data: rgba, width: W, height: H }, 100).data);
  const d = decodeImage(bytes, 'ramp.jpg');
  assert.is(d.format, 'jpeg');
  assert.equal(d.pixels.shape, [H, W, 3]);
  let worst = 0;
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs((d.pixels.get(y, x, c) as number) - rgba[4 * (y * W + x) + c]!));
  assert.ok(worst <= 6, `max error ${worst}`);
  const flat = new Uint8Array(4 * 64).map((_, i) => [90, 160, 30, 255][i % 4]!);
  const f = decodeImage(new Uint8Array(jpeg.encode({ data: flat, width: 8, height: 8 }, 100).data));
  for (const [c, v] of [90, 160, 30].entries()) assert.ok(Math.abs((f.pixels.get(3, 3, c) as number) - v) <= 1, `channel ${c}: ${f.pixels.get(3, 3, c)}`);
});

test('bad files: each refused with the file name and what is wrong', () => {
  const good = png(2, 1, 2, 8, [1, 2, 3, 255, 4, 5, 6, 255]);
  const fails = (bytes: Uint8Array, re: RegExp) => assert.throws(() => decodeImage(bytes, 'x.img'), (e: Error) => e instanceof ImageError && e.image === 'x.img' && re.test(e.message));
  fails(good.subarray(0, good.length - 20), /^x\.img: corrupt or unsupported PNG/);
  const j = new Uint8Array(jpeg.encode({ data: new Uint8Array(4 * 64).fill(99), width: 8, height: 8 }, 90).data);
  fails(j.subarray(0, j.length / 2), /^x\.img: corrupt or unsupported JPEG/);
  fails(new TextEncoder().encode('root:x:0:0:root:/root:/bin/bash\n'), /not a PNG or JPEG file/);
  fails(new TextEncoder().encode('RIFF\0\0\0\0WEBPVP8 '), /WebP images are not supported \(convert to PNG or JPEG\)/);
  fails(new Uint8Array(0), /empty file/);
});

test.run();
