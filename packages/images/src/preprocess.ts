/**
 * A manifest's preprocessing, on the client, before the image is encoded and shared. Equal to torchvision's
 * tensor pipeline on a float image (ToTensor, then Resize(antialias=True), CenterCrop, Normalize), in
 * float64:
 *
 * - colours: an image's channels become the input's: grey (1 channel, or 2 with alpha) is replicated to
 *   RGB; RGB (3, or 4 with alpha) becomes grey as L = 0.299 R + 0.587 G + 0.114 B (ITU-R 601-2, PIL's
 *   convert('L')); "bgr" reverses the order. Alpha is dropped, the colour values kept as stored, as PIL's
 *   convert('RGB') does (no compositing on a background). EXIF orientation is not applied (neither does
 *   PIL's Image.open).
 * - resize: separable, the triangle filter widened by the scale when shrinking (antialias), as
 *   torch's _upsample_bilinear2d_aa and PIL's resample: output pixel i of a side takes inputs
 *   j in [trunc(c - s + 0.5), trunc(c + s + 0.5)) with c = scale (i + 0.5), s = max(scale, 1), weight
 *   max(0, 1 - |j - c + 0.5| / s), the weights normalised to sum 1. An integer size is the shorter side
 *   (the longer becomes trunc(size * long / short)).
 * - centerCrop: offsets round((H - h) / 2) half to even (Python's round), zero padding first when the
 *   image is smaller than the crop.
 * - normalize: (x - mean) / std per channel.
 *
 * A PIL-image pipeline (Resize on the PIL image, then ToTensor) rounds the resized pixels to 8 bits; it
 * differs from this by at most half a grey level (1 / 510) before normalisation.
 * @module
 */
import ndarray, { type NdArray } from 'ndarray';
import type { Manifest, Size, Transform } from './manifest.ts';

/** Decoded pixels: [H, W] or [H, W, C] (C = 1 to 4), any strides; 8-bit, 16-bit or float in [0, 1]. */
export type Pixels = NdArray<Uint8Array | Uint8ClampedArray | Uint16Array | Float32Array | Float64Array>;

export class ImageError extends Error {
  override readonly name = 'ImageError';
  /** The image (file name or the caller's label) the error is about. */
  constructor(readonly image: string, message: string) {
    super(`${image}: ${message}`);
  }
}

/** An image as float64 planes, channel-major: data[c * H * W + y * W + x]. */
export interface Planes {
  data: Float64Array;
  C: number;
  H: number;
  W: number;
}

function scaleOf(p: Pixels, name: string): number {
  if (p.data instanceof Uint8Array || p.data instanceof Uint8ClampedArray) return 1 / 255;
  if (p.data instanceof Uint16Array) return 1 / 65535;
  if (p.data instanceof Float32Array || p.data instanceof Float64Array) return 1;
  throw new ImageError(name, `pixels must be 8-bit, 16-bit or float, got ${p.dtype}`);
}

/**
 * The image's pixels as the input's channels, in [0, 1] (see the module comment for the colour rules).
 * @throws {ImageError} for a shape that is not [H, W] or [H, W, 1..4]
 */
export function toPlanes(p: Pixels, colors: Manifest['input']['colors'], name = 'image'): Planes {
  const [H, W, Cin = 1] = p.shape as [number, number, number?];
  if (!(p.shape.length === 2 || p.shape.length === 3) || Cin < 1 || Cin > 4 || !(H! > 0 && W! > 0))
    throw new ImageError(name, `expected pixels [height, width] or [height, width, 1 to 4 channels], got [${p.shape.join(', ')}]`);
  const s = scaleOf(p, name);
  const [sy, sx, sc = 0] = p.stride as [number, number, number?];
  const d = p.data, o = p.offset;
  const at = (y: number, x: number, c: number) => d[o + y * sy + x * sx + c * sc]! * s;
  const grey = Cin <= 2;
  const C = colors === 'grey' ? 1 : 3;
  const out = new Float64Array(C * H * W);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = y * W + x;
      if (C === 1) out[i] = grey ? at(y, x, 0) : 0.299 * at(y, x, 0) + 0.587 * at(y, x, 1) + 0.114 * at(y, x, 2);
      else for (let c = 0; c < 3; c++) out[(colors === 'bgr' ? 2 - c : c) * H * W + i] = at(y, x, grey ? 0 : c);
    }
  }
  return { data: out, C, H, W };
}

/** torchvision's output size for Resize(size, max_size) on an H x W image. */
export function resizedSize(H: number, W: number, size: Size, maxSize?: number): [number, number] {
  if (typeof size !== 'number') return size;
  const [short, long] = W <= H ? [W, H] : [H, W];
  let [ns, nl] = [size, Math.trunc((size * long) / short)];
  if (maxSize !== undefined && nl > maxSize) [ns, nl] = [Math.trunc((maxSize * ns) / nl), maxSize];
  return W <= H ? [nl, ns] : [ns, nl];
}

/** For each output index of a side: the first input index and the normalised weights (module comment). */
function weightsAA(inSize: number, outSize: number): { start: Int32Array; weights: Float64Array[] } {
  const scale = inSize / outSize;
  const support = scale >= 1 ? scale : 1;
  const inv = scale >= 1 ? 1 / scale : 1;
  const start = new Int32Array(outSize);
  const weights: Float64Array[] = [];
  for (let i = 0; i < outSize; i++) {
    const center = scale * (i + 0.5);
    const lo = Math.max(Math.trunc(center - support + 0.5), 0);
    const hi = Math.min(Math.trunc(center + support + 0.5), inSize);
    const w = new Float64Array(hi - lo);
    let total = 0;
    for (let j = 0; j < w.length; j++) {
      const t = Math.abs((j + lo - center + 0.5) * inv);
      w[j] = t < 1 ? 1 - t : 0;
      total += w[j]!;
    }
    if (total > 0) for (let j = 0; j < w.length; j++) w[j]! /= total;
    start[i] = lo;
    weights.push(w);
  }
  return { start, weights };
}

/** Bilinear resize with antialias (rows then columns are independent passes). */
export function resize(p: Planes, outH: number, outW: number): Planes {
  if (outH === p.H && outW === p.W) return p;
  const { C, H, W } = p;
  const wx = weightsAA(W, outW), wy = weightsAA(H, outH);
  const mid = new Float64Array(C * H * outW);
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < H; y++) {
      const row = (c * H + y) * W;
      for (let x = 0; x < outW; x++) {
        const w = wx.weights[x]!, s = wx.start[x]!;
        let acc = 0;
        for (let j = 0; j < w.length; j++) acc += w[j]! * p.data[row + s + j]!;
        mid[(c * H + y) * outW + x] = acc;
      }
    }
  }
  const out = new Float64Array(C * outH * outW);
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < outH; y++) {
      const w = wy.weights[y]!, s = wy.start[y]!;
      for (let x = 0; x < outW; x++) {
        let acc = 0;
        for (let j = 0; j < w.length; j++) acc += w[j]! * mid[(c * H + s + j) * outW + x]!;
        out[(c * outH + y) * outW + x] = acc;
      }
    }
  }
  return { data: out, C, H: outH, W: outW };
}

/** Python's round(): half to even. */
const roundHalfEven = (v: number): number => {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
};

/** torchvision's CenterCrop: zero padding (left/top (d // 2), right/bottom ((d + 1) // 2)) when smaller, then the centre. */
export function centerCrop(p: Planes, size: Size): Planes {
  const [h, w] = typeof size === 'number' ? [size, size] : size;
  const { C } = p;
  const padT = h > p.H ? Math.floor((h - p.H) / 2) : 0, padL = w > p.W ? Math.floor((w - p.W) / 2) : 0;
  const H = Math.max(h, p.H), W = Math.max(w, p.W);
  const top = roundHalfEven((H - h) / 2), left = roundHalfEven((W - w) / 2);
  const out = new Float64Array(C * h * w);
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < h; y++) {
      const sy = y + top - padT;
      if (sy < 0 || sy >= p.H) continue;
      for (let x = 0; x < w; x++) {
        const sx = x + left - padL;
        if (sx >= 0 && sx < p.W) out[(c * h + y) * w + x] = p.data[(c * p.H + sy) * p.W + sx]!;
      }
    }
  }
  return { data: out, C, H: h, W: w };
}

function normalize(p: Planes, mean: readonly number[], std: readonly number[]): Planes {
  const out = new Float64Array(p.data.length);
  const hw = p.H * p.W;
  for (let c = 0; c < p.C; c++) for (let i = 0; i < hw; i++) out[c * hw + i] = (p.data[c * hw + i]! - mean[c]!) / std[c]!;
  return { ...p, data: out };
}

function apply(p: Planes, t: Transform): Planes {
  if ('resize' in t) return resize(p, ...resizedSize(p.H, p.W, t.resize, t.maxSize));
  if ('centerCrop' in t) return centerCrop(p, t.centerCrop);
  return normalize(p, t.normalize.mean, t.normalize.std);
}

/**
 * The network's input [C, H, W] (float32) for one image, by the manifest's colours and transforms.
 * @throws {ImageError} (naming `name`) for pixels of the wrong shape, or when the transforms do not end at the
 *   input's height and width
 */
export function preprocess(pixels: Pixels, m: Manifest, name = 'image'): NdArray<Float32Array> {
  let p = toPlanes(pixels, m.input.colors, name);
  for (const t of m.transforms) p = apply(p, t);
  const { height, width } = m.input;
  if (p.H !== height || p.W !== width) {
    const hint = m.transforms.some((t) => 'centerCrop' in t) ? '' : ' (add a centerCrop, or resize to [height, width])';
    throw new ImageError(name, `the manifest's transforms make it ${p.H}x${p.W} (height x width), the model takes ${height}x${width}${hint}`);
  }
  return ndarray(Float32Array.from(p.data), [p.C, p.H, p.W]);
}
