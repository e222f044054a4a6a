/**
 * Label maps as pictures: a colour per class (the PASCAL VOC colour map: the bits of the class index
 * spread over R, G and B, high bits first), and an overlay of the map on the image it labels.
 * @module
 */
import ndarray, { type NdArray } from 'ndarray';
import type { Manifest } from './manifest.ts';
import { centerCrop, resize, resizedSize, toPlanes, type Pixels, type Planes } from './preprocess.ts';

/** The colour [r, g, b] of class `label` (VOC colour map: class 0 black, 1 dark red, 2 dark green, ...). */
export function labelColor(label: number): [number, number, number] {
  let r = 0, g = 0, b = 0, c = label;
  for (let j = 7; j >= 0 && c > 0; j--) {
    r |= (c & 1) << j;
    g |= ((c >> 1) & 1) << j;
    b |= ((c >> 2) & 1) << j;
    c >>= 3;
  }
  return [r, g, b];
}

/** A label map [H, W] (row-major class indices) as RGB pixels [H, W, 3]. */
export function labelMapPixels(labels: ArrayLike<number>, H: number, W: number): NdArray<Uint8Array> {
  if (labels.length !== H * W) throw new RangeError(`${labels.length} labels for a ${H}x${W} map`);
  const out = new Uint8Array(3 * H * W);
  for (let i = 0; i < H * W; i++) out.set(labelColor(labels[i]!), 3 * i);
  return ndarray(out, [H, W, 3]);
}

/**
 * The image as the network saw it, before normalisation: the manifest's colours (grey shown as grey),
 * resizes and crops, as planes in [0, 1].
 */
export function networkView(pixels: Pixels, m: Manifest, name = 'image'): Planes {
  let p = toPlanes(pixels, m.input.colors === 'grey' ? 'grey' : 'rgb', name);
  for (const t of m.transforms) {
    if ('resize' in t) p = resize(p, ...resizedSize(p.H, p.W, t.resize, t.maxSize));
    else if ('centerCrop' in t) p = centerCrop(p, t.centerCrop);
  }
  return p;
}

/**
 * The label map over the image: each pixel alpha * class colour + (1 - alpha) * image, the map scaled
 * to the image by nearest neighbour (a network's output is often coarser than its input).
 */
export function overlayPixels(image: Planes, labels: ArrayLike<number>, mapH: number, mapW: number, alpha = 0.5): NdArray<Uint8Array> {
  if (labels.length !== mapH * mapW) throw new RangeError(`${labels.length} labels for a ${mapH}x${mapW} map`);
  const { H, W, C } = image;
  const out = new Uint8Array(3 * H * W);
  for (let y = 0; y < H; y++) {
    const my = Math.min(mapH - 1, Math.floor(((y + 0.5) * mapH) / H));
    for (let x = 0; x < W; x++) {
      const mx = Math.min(mapW - 1, Math.floor(((x + 0.5) * mapW) / W));
      const color = labelColor(labels[my * mapW + mx]!);
      for (let c = 0; c < 3; c++) {
        const v = image.data[(C === 1 ? 0 : c) * H * W + y * W + x]!;
        out[3 * (y * W + x) + c] = Math.round(Math.min(1, Math.max(0, alpha * (color[c]! / 255) + (1 - alpha) * v)) * 255);
      }
    }
  }
  return ndarray(out, [H, W, 3]);
}
