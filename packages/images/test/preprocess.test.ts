import { test } from 'uvu';
import * as assert from 'uvu/assert';
import ndarray from 'ndarray';
import * as ort from 'onnxruntime-node';
import { ProtobufWriter as W } from '@si/models';
import {
  centerCrop, ImageError, parseManifest, preprocess, resize, resizedSize, stackInputs, toPlanes, validateManifest, ManifestError, type Manifest, type Planes,
} from '../src/index.ts';

const close = (got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-6, what = '') => {
  assert.is(got.length, want.length, `${what} length`);
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i]! - want[i]!) <= tol, `${what} [${i}]: ${got[i]} vs ${want[i]}`);
};
const planes = (H: number, W: number, f: (y: number, x: number) => number): Planes => ({ data: Float64Array.from({ length: H * W }, (_, i) => f(Math.floor(i / W), i % W)), C: 1, H, W });

test('resize with antialias equals the hand-computed triangle-filter weights (4x4 -> 2x2; 2 -> 4 is plain bilinear)', () => {
  // Shrinking by 2: the filter widens to support 2; output 0 takes inputs 0..2 with weights 0.75, 0.75,
  // 0.25 (normalised: 3/7, 3/7, 1/7), output 1 inputs 1..3 with 1/7, 3/7, 3/7. On x = 4y + c the two sides
  // give E0 = (0*3 + 1*3 + 2*1) / 7 = 5/7 and E1 = (1 + 6 + 9) / 7 = 16/7.
  const out = resize(planes(4, 4, (y, x) => 4 * y + x), 2, 2);
  close(out.data, [4 * 5 / 7 + 5 / 7, 4 * 5 / 7 + 16 / 7, 4 * 16 / 7 + 5 / 7, 4 * 16 / 7 + 16 / 7], 1e-12, '4x4 -> 2x2');
  // Growing: source positions -0.25, 0.25, 0.75, 1.25 (half pixel), clamped at the ends.
  const up = resize(planes(1, 2, (_, x) => [10, 30][x]!), 1, 4);
  close(up.data, [10, 0.75 * 10 + 0.25 * 30, 0.25 * 10 + 0.75 * 30, 30], 1e-12, '2 -> 4');
  // Same size: unchanged.
  const same = planes(3, 5, (y, x) => y * x);
  assert.is(resize(same, 3, 5), same);
});

test('resize sizes (torchvision): shorter side to S, longer truncated; max_size; exact [h, w]', () => {
  assert.equal(resizedSize(375, 500, 256), [256, 341]);
  assert.equal(resizedSize(500, 375, 256), [341, 256]);
  assert.equal(resizedSize(100, 100, 32), [32, 32]);
  assert.equal(resizedSize(100, 400, 50, 150), [37, 150]);
  assert.equal(resizedSize(375, 500, [20, 30]), [20, 30]);
});

test('centerCrop: offsets round half to even (Python round); zero padding when the image is smaller', () => {
  const img = planes(7, 6, (y, x) => 10 * y + x);
  // H 7 -> 2: (7 - 2) / 2 = 2.5 -> 2; W 6 -> 3: 1.5 -> 2.
  assert.equal([...centerCrop(img, [2, 3]).data], [22, 23, 24, 32, 33, 34]);
  // H 5 -> 2: 1.5 -> 2; W 6 -> 1: 2.5 -> 2.
  assert.equal([...centerCrop(planes(5, 6, (y, x) => 10 * y + x), [2, 1]).data], [22, 32]);
  // 2x2 into 5x4: padding top 1, bottom 2, left 1, right 1.
  const small = planes(2, 2, (y, x) => 1 + 2 * y + x);
  assert.equal([...centerCrop(small, [5, 4]).data], [0, 0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
});

test('colours: grey replicated, RGB to L = 0.299 R + 0.587 G + 0.114 B, BGR reversed, alpha dropped; 8/16-bit scaled', () => {
  const rgba = ndarray(new Uint8Array([255, 0, 0, 7, 0, 255, 0, 7, 0, 0, 255, 7]), [1, 3, 4]);
  close(toPlanes(rgba, 'grey').data, [0.299, 0.587, 0.114], 1e-12, 'luma');
  close(toPlanes(rgba, 'rgb').data, [1, 0, 0, 0, 1, 0, 0, 0, 1], 0, 'rgb');
  close(toPlanes(rgba, 'bgr').data, [0, 0, 1, 0, 1, 0, 1, 0, 0], 0, 'bgr');
  const grey16 = ndarray(new Uint16Array([0, 65535, 32768]), [1, 3]);
  close(toPlanes(grey16, 'rgb').data, [0, 1, 32768 / 65535, 0, 1, 32768 / 65535, 0, 1, 32768 / 65535], 1e-12, 'grey16 to rgb');
  assert.throws(() => toPlanes(ndarray(new Uint8Array(10), [1, 2, 5]), 'rgb', 'odd.png'), /odd\.png: expected pixels \[height, width\] or \[height, width, 1 to 4 channels\], got \[1, 2, 5\]/);
});

const manifest = (transforms: unknown[], input = { channels: 3, height: 2, width: 2 }): Manifest =>
  validateManifest({ format: 'si-model-manifest', version: 1, model: 'm', input, transforms });

test('the whole pipeline (resize, crop, normalise) equals the chain by hand; any strides give the same input', () => {
  // A 4 x 6 RGB image, 8-bit; resize to shorter side 2 -> 2 x 3 (trunc(2 * 6 / 4)), crop 2 x 2 (left offset
  // round(0.5) = 0), normalise.
  const H = 4, Wd = 6;
  const data = new Uint8Array(H * Wd * 3).map((_, i) => (i * 37) % 256);
  const img = ndarray(data, [H, Wd, 3]);
  const m = manifest([{ resize: 2 }, { centerCrop: 2 }, { normalize: { mean: [0.5, 0.4, 0.3], std: [0.2, 0.25, 0.5] } }]);
  const got = preprocess(img, m);
  assert.equal(got.shape, [3, 2, 2]);
  let p = toPlanes(img, 'rgb');
  p = resize(p, 2, 3);
  p = centerCrop(p, 2);
  const want = Array.from(p.data, (v, i) => (v - [0.5, 0.4, 0.3][Math.floor(i / 4)]!) / [0.2, 0.25, 0.5][Math.floor(i / 4)]!);
  close(got.data, want, 1e-6, 'pipeline');
  // The same pixels stored [W, H, C] and viewed transposed, or as a crop of a larger buffer: same input.
  const t = new Uint8Array(H * Wd * 3);
  for (let y = 0; y < H; y++) for (let x = 0; x < Wd; x++) for (let c = 0; c < 3; c++) t[(x * H + y) * 3 + c] = data[(y * Wd + x) * 3 + c]!;
  close(preprocess(ndarray(t, [Wd, H, 3]).transpose(1, 0, 2), m).data, got.data, 0, 'transposed view');
  const big = ndarray(new Uint8Array((H + 2) * (Wd + 3) * 3), [H + 2, Wd + 3, 3]);
  for (let y = 0; y < H; y++) for (let x = 0; x < Wd; x++) for (let c = 0; c < 3; c++) big.set(y + 1, x + 2, c, data[(y * Wd + x) * 3 + c]!);
  close(preprocess(big.lo(1, 2, 0).hi(H, Wd, 3), m).data, got.data, 0, 'cropped view');
  const batch = stackInputs([got, got]);
  assert.equal(batch.shape, [2, 3, 2, 2]);
  close(batch.x.subarray(12), got.data, 0, 'stacked');
  assert.is(stackInputs([got]).x, got.data, 'one contiguous input is not copied');
});

test('transforms that do not end at the input size are an error naming the image', () => {
  const m = manifest([{ resize: 2 }]);
  assert.throws(() => preprocess(ndarray(new Uint8Array(4 * 6 * 3), [4, 6, 3]), m, 'wide.png'), (e: Error) =>
    e instanceof ImageError && /^wide\.png: the manifest's transforms make it 2x3 \(height x width\), the model takes 2x2 \(add a centerCrop/.test(e.message));
});

test('manifests: fields checked and named; expectations about the network', () => {
  const base = { format: 'si-model-manifest', version: 1, model: 'm', input: { channels: 3, height: 8, width: 8 }, transforms: [], classes: ['a', 'b'] };
  assert.is(validateManifest(base).input.colors, 'rgb');
  const bad = (over: Record<string, unknown>, re: RegExp, expect?: Parameters<typeof validateManifest>[1]) =>
    assert.throws(() => validateManifest({ ...base, ...over }, expect), (e: Error) => e instanceof ManifestError && re.test(e.message));
  bad({ version: 2 }, /unsupported manifest version 2/);
  bad({ input: { channels: 2, height: 8, width: 8 } }, /"input": expected \{"channels": 1 or 3/);
  bad({ input: { channels: 1, height: 8, width: 8, colors: 'rgb' } }, /"input.colors": "rgb" does not fit 1 channel/);
  bad({ transforms: [{ resize: 0 }] }, /"transforms"\[0\].resize: expected a positive integer/);
  bad({ transforms: [{ resize: 8, interpolation: 'nearest' }] }, /only "bilinear" is supported/);
  bad({ transforms: [{ normalize: { mean: [0, 0], std: [1, 1, 1] } }] }, /normalize.mean: expected 3 numbers/);
  bad({ transforms: [{ normalize: { mean: [0, 0, 0], std: [1, 0, 1] } }] }, /normalize.std: expected 3 numbers above 0/);
  bad({ transforms: [{ flip: true }] }, /expected one of \{"resize"/);
  bad({}, /the manifest's input is 3x8x8 \(channels x height x width\), the network takes 3x224x224/, { input: [3, 224, 224] });
  bad({}, /the manifest names 2 classes, the network has 10 outputs/, { classes: 10 });
  bad({}, /the manifest is for "m", not "resnet50"/, { model: 'resnet50' });
  assert.throws(() => parseManifest('{'), /the manifest is not JSON/);
});

/**
 * A one-node ONNX model: Resize(x, sizes) with antialias (opset 18). exclude_outside = 1 is torch's and
 * PIL's edge rule (the window is cut at the border and renormalised); ONNX's default (0) weights
 * replicated border pixels instead, and differs at the first and last outputs.
 */
function resizeModel(inDims: number[], outDims: number[]): Uint8Array {
  const attr = (name: string, f: (w: W) => W) => f(new W().string(1, name));
  const sizes = new BigInt64Array(outDims.map(BigInt));
  const node = new W().string(1, 'x').string(1, '').string(1, '').string(1, 'sizes').string(2, 'y').string(3, 'resize').string(4, 'Resize')
    .msg(5, attr('mode', (w) => w.string(4, 'linear').int(20, 3))).msg(5, attr('antialias', (w) => w.int(3, 1).int(20, 2)))
    .msg(5, attr('exclude_outside', (w) => w.int(3, 1).int(20, 2)));
  const dims = (ds: number[]) => {
    const s = new W();
    for (const d of ds) s.msg(1, new W().int(1, d));
    return s;
  };
  const info = (name: string, ds: number[]) => new W().string(1, name).msg(2, new W().msg(1, new W().int(1, 1).msg(2, dims(ds))));
  const g = new W().msg(1, node).string(2, 'resize')
    .msg(5, new W().packedInts(1, [4]).int(2, 7).string(8, 'sizes').bytes(9, new Uint8Array(sizes.buffer)))
    .msg(11, info('x', inDims)).msg(12, info('y', outDims));
  return new W().int(1, 8).msg(8, new W().string(1, '').int(2, 18)).string(2, 'test').msg(7, g).finish();
}

test('resize with antialias equals onnxruntime\'s Resize(antialias=1, linear, half_pixel, exclude_outside=1) within 1e-6', async () => {
  const H = 13, Wd = 17;
  const x = Float32Array.from({ length: 2 * H * Wd }, (_, i) => ((i * 7919) % 1000) / 1000);
  for (const [oh, ow] of [[5, 7], [4, 17], [26, 30], [13, 6], [1, 1]] as const) {
    const s = await ort.InferenceSession.create(resizeModel([1, 2, H, Wd], [1, 2, oh, ow]), { intraOpNumThreads: 1 });
    const y = (await s.run({ x: new ort.Tensor('float32', x, [1, 2, H, Wd]) })).y!.data as Float32Array;
    const ours = resize({ data: Float64Array.from(x), C: 2, H, W: Wd }, oh, ow);
    close(ours.data, y, 1e-6, `${H}x${Wd} -> ${oh}x${ow}`);
  }
});

test.run();
