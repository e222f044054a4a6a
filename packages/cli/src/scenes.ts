/**
 * Fashion-MNIST scenes: a segmentation task made from real images. Each scene is a 64x64 canvas with 2 to
 * 4 Fashion-MNIST items pasted at seeded random positions, later items on top; an item covers the pixels
 * where its intensity is above THRESHOLD, and those pixels take its value and its label (its class + 1).
 * Every other pixel is background (0): 11 classes. Train scenes come from the training split, test scenes
 * from the test split; a scene is a pure function of (split, seed, index), so the fixed test set is the
 * same everywhere.
 * @module
 */
import seedrandom from 'seedrandom';
import type { Dataset } from '@si/models';
import { CLASS_NAMES } from './fashion.ts';

const SCENE_SIZE = 64;
/** Item pixels above this intensity (of 1) belong to the item. */
export const THRESHOLD = 0.25;
export const SCENE_CLASSES = ['background', ...CLASS_NAMES] as const;

/** Scenes [N, 1, 64, 64] in [0, 1] with a label per pixel [N, 64, 64] (0 background, 1 + the item's class). */
export interface Scenes {
  x: Float32Array;
  labels: Uint8Array;
  N: number;
  /** Per scene, the items pasted in order (later on top): their index in the source split and top-left corner. */
  placements: { item: number; top: number; left: number }[][];
}

/**
 * Scenes start .. start + count - 1 built from the items of `items` (28x28 images with labels), scene i
 * from seedrandom(`${seed}/${i}`): how many items, which ones, and where.
 */
export function makeScenes(items: Dataset, count: number, seed: string, start = 0): Scenes {
  const S = SCENE_SIZE, I = 28;
  const x = new Float32Array(count * S * S), labels = new Uint8Array(count * S * S);
  const placements: Scenes['placements'] = [];
  for (let n = 0; n < count; n++) {
    const r = seedrandom(`${seed}/${start + n}`);
    const k = 2 + Math.floor(r() * 3);
    const cx = x.subarray(n * S * S, (n + 1) * S * S), cl = labels.subarray(n * S * S, (n + 1) * S * S);
    placements.push([]);
    for (let j = 0; j < k; j++) {
      const item = Math.floor(r() * items.N), top = Math.floor(r() * (S - I + 1)), left = Math.floor(r() * (S - I + 1));
      placements[n]!.push({ item, top, left });
      const src = items.x.subarray(item * I * I, (item + 1) * I * I), label = items.labels[item]! + 1;
      for (let y = 0; y < I; y++)
        for (let xx = 0; xx < I; xx++) {
          const v = src[y * I + xx]!;
          if (v <= THRESHOLD) continue;
          const at = (top + y) * S + left + xx;
          cx[at] = v;
          cl[at] = label;
        }
    }
  }
  return { x, labels, N: count, placements };
}

/** Per-class intersection over union of predicted and true label maps, and their mean over the classes present. */
export function meanIoU(pred: ArrayLike<number>, truth: ArrayLike<number>, classes: number): { miou: number; iou: (number | null)[]; pixelAccuracy: number } {
  if (pred.length !== truth.length) throw new RangeError(`${pred.length} predicted labels for ${truth.length} true ones`);
  const inter = new Float64Array(classes), union = new Float64Array(classes);
  let right = 0;
  for (let i = 0; i < pred.length; i++) {
    const p = pred[i]!, t = truth[i]!;
    if (p === t) {
      inter[p]!++;
      union[p]!++;
      right++;
    } else {
      union[p]!++;
      union[t]!++;
    }
  }
  // A class absent from both truth and prediction has no IoU (it does not count in the mean).
  const iou = Array.from(union, (u, c) => (u > 0 ? inter[c]! / u : null));
  const present = iou.filter((v): v is number => v !== null);
  return { miou: present.reduce((a, b) => a + b, 0) / Math.max(1, present.length), iou, pixelAccuracy: right / Math.max(1, pred.length) };
}
