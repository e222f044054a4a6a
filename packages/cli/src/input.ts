/**
 * The client's input: image files (PNG, JPEG) preprocessed by the model's manifest, decoded pixels or
 * ready tensors as ndarray views (from code), IDX files, or seeded random images. Everything is read and
 * checked before a session starts: a file that cannot be used is reported by name and skipped, and the
 * others still run; no usable image at all is an error.
 * @module
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { NdArray } from 'ndarray';
import { ImageError, preprocess, stackInputs, type Manifest, type Pixels } from '@si/images';
import { readImage } from '@si/images/node';
import { shapeSize } from '@si/ring';
import type { Graph } from '@si/models';
import { DataError, idxImages, idxLabels, randomImages } from './data.ts';

/** The client's images. */
export type InputSource =
  | { kind: 'random'; count: number; seed?: string }
  | { kind: 'idx'; images: string; labels?: string; start?: number; count?: number }
  /** PNG or JPEG files, preprocessed by the manifest. */
  | { kind: 'files'; paths: string[] }
  /** Decoded images ([H, W] or [H, W, C] ndarray views, any strides), preprocessed by the manifest. */
  | { kind: 'pixels'; images: { name: string; pixels: Pixels }[] }
  /** Inputs [N, C, H, W] as the network takes them (already preprocessed), any strides. */
  | { kind: 'tensor'; x: NdArray<Float32Array | Float64Array>; names?: string[] };

export interface LoadedInput {
  /** [count, C, H, W], row-major. */
  x: Float32Array;
  count: number;
  /** A name per image (file name, `FILE#i` for IDX, `random#i`). */
  names: string[];
  /** True labels (IDX with a label file). */
  labels?: number[];
  /** Inputs that could not be used, with why (the others run). */
  skipped: { image: string; error: string }[];
}

/** Image files in a directory, or matching a glob (`*` and `?` in the last path segment). */
export function expandImages(path: string): string[] {
  const isImage = (f: string) => /\.(png|jpe?g)$/i.test(f);
  if (/[*?]/.test(basename(path))) {
    const dir = dirname(path);
    const re = new RegExp(`^${basename(path).replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (e) {
      throw new DataError(`cannot list ${dir}: ${(e as Error).message}`);
    }
    const out = names.filter((n) => re.test(n)).sort().map((n) => join(dir, n));
    if (out.length === 0) throw new DataError(`no file matches ${path}`);
    return out;
  }
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new DataError(`cannot read ${path}: ${(e as Error).message}`);
  }
  if (!st.isDirectory()) return [path];
  const out = readdirSync(path).filter(isImage).sort().map((n) => join(path, n));
  if (out.length === 0) throw new DataError(`${path} holds no .png, .jpg or .jpeg files`);
  return out;
}

/** Whether a file starts like an IDX file (0x00 0x00 type dims) or a gzipped one. */
export function looksLikeIdx(path: string): boolean {
  let head: Uint8Array;
  try {
    head = readFileSync(path).subarray(0, 4);
  } catch {
    return false;
  }
  return (head[0] === 0x1f && head[1] === 0x8b) || (head.length === 4 && head[0] === 0 && head[1] === 0 && head[2] === 0x08);
}

function fromPixels(graph: Graph, manifest: Manifest | undefined, images: { name: string; pixels: () => Pixels }[]): LoadedInput {
  if (!manifest) throw new DataError(`model "${graph.name}" has no manifest: give one (--manifest FILE) to preprocess images`);
  const inputs: NdArray<Float32Array>[] = [], names: string[] = [], skipped: LoadedInput['skipped'] = [];
  for (const img of images) {
    try {
      inputs.push(preprocess(img.pixels(), manifest, img.name));
      names.push(img.name);
    } catch (e) {
      if (!(e instanceof ImageError)) throw e;
      skipped.push({ image: e.image, error: e.message });
    }
  }
  if (inputs.length === 0) throw new DataError(`no usable image: ${skipped.map((s) => s.error).join('; ')}`);
  const { x } = stackInputs(inputs);
  return { x, count: inputs.length, names, skipped };
}

/**
 * Reads the client's input as the network's batch.
 * @throws {DataError} when nothing is usable (each unusable image is named); {ImageError} never escapes,
 *   an unusable image is in `skipped`
 */
export function loadInput(graph: Graph, src: InputSource, manifest?: Manifest): LoadedInput {
  const [C, H, W] = graph.inputShape as [number, number, number];
  if (src.kind === 'random') {
    if (!(Number.isInteger(src.count) && src.count > 0)) throw new DataError(`random input needs a positive image count, got ${src.count}`);
    return { x: randomImages([C, H, W], src.count, src.seed ?? 'input'), count: src.count, names: Array.from({ length: src.count }, (_, i) => `random#${i}`), skipped: [] };
  }
  if (src.kind === 'files') return fromPixels(graph, manifest, src.paths.map((p) => ({ name: p, pixels: () => readImage(p).pixels })));
  if (src.kind === 'pixels') return fromPixels(graph, manifest, src.images.map((i) => ({ name: i.name, pixels: () => i.pixels })));
  if (src.kind === 'tensor') {
    const want = [C, H, W].join('x');
    if (src.x.shape.length !== 4 || src.x.shape.slice(1).join('x') !== want) throw new DataError(`the input tensor is [${src.x.shape.join(', ')}]; model "${graph.name}" takes [N, ${C}, ${H}, ${W}]`);
    const N = src.x.shape[0]!;
    const per = shapeSize([C, H, W]);
    const rows = Array.from({ length: N }, (_, n) => src.x.pick(n, null, null, null));
    const { x } = N === 0 ? { x: new Float32Array(0) } : stackInputs(rows);
    if (N === 0 || x.length !== N * per) throw new DataError('the input tensor holds no image');
    return { x, count: N, names: src.names ?? Array.from({ length: N }, (_, i) => `input#${i}`), skipped: [] };
  }
  const { x, shape } = idxImages(src.images, src.start ?? 0, src.count);
  if (shape[1] !== C || shape[2] !== H || shape[3] !== W)
    throw new DataError(`${src.images} holds ${shape[2]}x${shape[3]}x${shape[1]} images; model "${graph.name}" takes ${H}x${W}x${C}`);
  const labels = src.labels ? Array.from(idxLabels(src.labels, src.start ?? 0, shape[0])) : undefined;
  const names = Array.from({ length: shape[0] }, (_, i) => `${src.images}#${(src.start ?? 0) + i}`);
  return { x, count: shape[0], names, skipped: [], ...(labels ? { labels } : {}) };
}
