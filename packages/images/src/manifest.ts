/**
 * A model manifest: what a client needs to turn an image into the network's input, and its answer into a
 * name. It is public (the client holds it; the server does not need it). JSON:
 *
 *   {
 *     "format": "si-model-manifest", "version": 1,
 *     "model": "resnet50",                        the graph's name (checked against the network)
 *     "input": { "channels": 3, "height": 224, "width": 224, "colors": "rgb" },
 *     "transforms": [                             applied in order, as torchvision's are
 *       { "resize": 256 },                        shorter side to 256 (or [h, w]), bilinear with antialias
 *       { "centerCrop": 224 },                    (or [h, w]); zero padding when the image is smaller
 *       { "normalize": { "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225] } }
 *     ],
 *     "classes": ["tench", "goldfish", ...]       optional: one name per output class
 *   }
 *
 * Pixels enter as floats in [0, 1] (8-bit / 255, 16-bit / 65535: torchvision's ToTensor and
 * ConvertImageDtype); `colors` says how the decoded image becomes the input's channels (see preprocess).
 * A PyTorch user writes the manifest from their transforms: Resize(256) is {"resize": 256},
 * Resize((h, w)) is {"resize": [h, w]}, CenterCrop(224) is {"centerCrop": 224}, Normalize(mean, std) is
 * {"normalize": {"mean": [...], "std": [...]}}, and ToTensor is implicit.
 * @module
 */

export type Size = number | [number, number];

export type Transform =
  | { resize: Size; interpolation?: 'bilinear'; antialias?: true; maxSize?: number }
  | { centerCrop: Size }
  | { normalize: { mean: number[]; std: number[] } };

export interface Manifest {
  format: 'si-model-manifest';
  version: 1;
  model: string;
  input: { channels: number; height: number; width: number; colors: 'rgb' | 'bgr' | 'grey' };
  transforms: Transform[];
  classes?: string[];
  /** Free text: where the weights, statistics or class names come from. */
  source?: string;
}

export class ManifestError extends Error {
  override readonly name = 'ManifestError';
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const posInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;
const isSize = (v: unknown): v is Size => posInt(v) || (Array.isArray(v) && v.length === 2 && v.every(posInt));

function transform(t: unknown, at: string, channels: number): Transform {
  if (!isObject(t) || Object.keys(t).filter((k) => ['resize', 'centerCrop', 'normalize'].includes(k)).length !== 1)
    throw new ManifestError(`${at}: expected one of {"resize": ...}, {"centerCrop": ...}, {"normalize": ...}, got ${JSON.stringify(t)}`);
  if ('resize' in t) {
    if (!isSize(t.resize)) throw new ManifestError(`${at}.resize: expected a positive integer (shorter side) or [height, width], got ${JSON.stringify(t.resize)}`);
    if (t.interpolation !== undefined && t.interpolation !== 'bilinear') throw new ManifestError(`${at}.interpolation: only "bilinear" is supported, got ${JSON.stringify(t.interpolation)}`);
    if (t.antialias !== undefined && t.antialias !== true) throw new ManifestError(`${at}.antialias: only true is supported (torchvision's default), got ${JSON.stringify(t.antialias)}`);
    if (t.maxSize !== undefined && !(posInt(t.maxSize) && typeof t.resize === 'number' && t.maxSize > t.resize))
      throw new ManifestError(`${at}.maxSize: expected an integer above an integer resize, got ${JSON.stringify(t.maxSize)}`);
    return t as Transform;
  }
  if ('centerCrop' in t) {
    if (!isSize(t.centerCrop)) throw new ManifestError(`${at}.centerCrop: expected a positive integer or [height, width], got ${JSON.stringify(t.centerCrop)}`);
    return t as Transform;
  }
  const n = t.normalize;
  const list = (v: unknown, what: string, ok: (x: number) => boolean) => {
    if (!Array.isArray(v) || v.length !== channels || !v.every((x) => typeof x === 'number' && ok(x)))
      throw new ManifestError(`${at}.normalize.${what}: expected ${channels} number${channels === 1 ? '' : 's'}${what === 'std' ? ' above 0' : ''}, got ${JSON.stringify(v)}`);
    return v as number[];
  };
  if (!isObject(n)) throw new ManifestError(`${at}.normalize: expected {"mean": [...], "std": [...]}`);
  return { normalize: { mean: list(n.mean, 'mean', Number.isFinite), std: list(n.std, 'std', (x) => x > 0 && Number.isFinite(x)) } };
}

/**
 * Checks a parsed manifest. With `expect`, also that it describes that network (name, input shape and,
 * when it lists classes, their number).
 * @throws {ManifestError} naming the field
 */
export function validateManifest(m: unknown, expect?: { model?: string; input?: readonly number[]; classes?: number }): Manifest {
  if (!isObject(m) || m.format !== 'si-model-manifest') throw new ManifestError('not a model manifest (expected "format": "si-model-manifest")');
  if (m.version !== 1) throw new ManifestError(`unsupported manifest version ${JSON.stringify(m.version)} (this library reads version 1)`);
  if (typeof m.model !== 'string' || m.model === '') throw new ManifestError('"model": expected the network\'s name');
  const i = m.input;
  if (!isObject(i) || !posInt(i.height) || !posInt(i.width) || !(i.channels === 1 || i.channels === 3))
    throw new ManifestError(`"input": expected {"channels": 1 or 3, "height", "width"}, got ${JSON.stringify(i)}`);
  const colors = i.colors ?? (i.channels === 1 ? 'grey' : 'rgb');
  if (!(i.channels === 1 ? colors === 'grey' : colors === 'rgb' || colors === 'bgr'))
    throw new ManifestError(`"input.colors": ${JSON.stringify(colors)} does not fit ${i.channels} channel${i.channels === 1 ? '' : 's'} (use "grey" for 1, "rgb" or "bgr" for 3)`);
  if (!Array.isArray(m.transforms)) throw new ManifestError('"transforms": expected a list (may be empty)');
  const transforms = m.transforms.map((t, k) => transform(t, `"transforms"[${k}]`, i.channels as number));
  if (m.classes !== undefined && !(Array.isArray(m.classes) && m.classes.every((c) => typeof c === 'string')))
    throw new ManifestError('"classes": expected a list of names');
  const out: Manifest = {
    format: 'si-model-manifest', version: 1, model: m.model,
    input: { channels: i.channels as number, height: i.height as number, width: i.width as number, colors: colors as Manifest['input']['colors'] },
    transforms, ...(m.classes ? { classes: m.classes as string[] } : {}), ...(typeof m.source === 'string' ? { source: m.source } : {}),
  };
  if (expect?.model !== undefined && expect.model !== out.model) throw new ManifestError(`the manifest is for "${out.model}", not "${expect.model}"`);
  const shape = [out.input.channels, out.input.height, out.input.width];
  if (expect?.input && shape.join('x') !== expect.input.join('x'))
    throw new ManifestError(`the manifest's input is ${shape.join('x')} (channels x height x width), the network takes ${expect.input.join('x')}`);
  if (expect?.classes !== undefined && out.classes && out.classes.length !== expect.classes)
    throw new ManifestError(`the manifest names ${out.classes.length} classes, the network has ${expect.classes} outputs`);
  return out;
}

/**
 * Parses manifest JSON text.
 * @throws {ManifestError} for text that is not JSON or not a valid manifest
 */
export function parseManifest(text: string, expect?: Parameters<typeof validateManifest>[1]): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ManifestError(`the manifest is not JSON: ${(e as Error).message}`);
  }
  return validateManifest(json, expect);
}

/** The name of class `label`, or its number when the manifest has no names. */
export const className = (m: Manifest | undefined, label: number): string => m?.classes?.[label] ?? String(label);
