/**
 * Label maps at image resolution. A segmentation network's logits are at 1/8 resolution; the secure
 * argmax runs there (150 classes per pixel at full resolution would cost 64 times as much), and the
 * client, which learns that label map anyway, enlarges it in the clear: each output pixel takes the label
 * of the map pixel whose cell contains its centre (nearest with half-pixel centres: source row
 * floor((o + 1/2) h / H)), so the map is not shifted by half a cell as torch's default nearest is.
 * @module
 */

/** Source index along one axis for each of `out` pixels, from `inN`. */
function centres(inN: number, out: number): Int32Array {
  return Int32Array.from({ length: out }, (_, o) => Math.min(inN - 1, Math.floor(((o + 0.5) * inN) / out)));
}

/** `images` label maps h x w (flattened in order) enlarged to H x W. */
export function upsampleLabels(labels: readonly number[], images: number, [h, w]: readonly [number, number], [H, W]: readonly [number, number]): number[] {
  if (labels.length !== images * h * w) throw new RangeError(`${labels.length} labels are not ${images} maps of ${h}x${w}`);
  const rows = centres(h, H), cols = centres(w, W), out = new Array<number>(images * H * W);
  let k = 0;
  for (let n = 0; n < images; n++)
    for (let y = 0; y < H; y++) {
      const base = (n * h + rows[y]!) * w;
      for (let x = 0; x < W; x++) out[k++] = labels[base + cols[x]!]!;
    }
  return out;
}
