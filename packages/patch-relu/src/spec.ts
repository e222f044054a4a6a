/**
 * Patch specs (DESIGN §5): per ReLU layer, one patch size per channel.
 *
 *   { "format": "si-patch-spec", "version": 1, "model": NAME, "layers": { LAYER: [[ph, pw], ...] } }
 *
 * [1, 1] is an ordinary ReLU, [0, 1] identity (no ReLU, free), [1, 0] a zero channel (output 0, free), and
 * any other [ph, pw] with ph, pw >= 1 one sign per ph x pw patch (sizes larger than the map are clipped).
 * @module
 */

export type PatchSize = readonly [number, number];

export const RELU: PatchSize = [1, 1];
export const IDENTITY: PatchSize = [0, 1];
export const ZERO: PatchSize = [1, 0];

export interface PatchSpec {
  format: 'si-patch-spec';
  version: 1;
  model: string;
  layers: Record<string, PatchSize[]>;
}

/** What a validator needs to know about a ReLU layer. */
export interface ReluLayerInfo {
  name: string;
  channels: number;
  H: number;
  W: number;
  /** The layer also clips above (ReLU6, Clip(0, t)): one more DReLU per pixel of each channel not zeroed. */
  clipped?: boolean;
}

export type PatchKind = 'relu' | 'identity' | 'zero' | 'patch';

/** The kind of a (valid) patch size. */
export function kindOf(s: PatchSize): PatchKind {
  if (s[0] === 0) return 'identity';
  if (s[1] === 0) return 'zero';
  return s[0] === 1 && s[1] === 1 ? 'relu' : 'patch';
}

/** An error in a spec, naming where. */
export class SpecError extends Error {
  override readonly name = 'SpecError';
}

function checkSize(v: unknown, where: string): PatchSize {
  if (!Array.isArray(v) || v.length !== 2) throw new SpecError(`${where}: expected [ph, pw], got ${JSON.stringify(v)}`);
  const [ph, pw] = v as unknown[];
  if (!Number.isSafeInteger(ph) || !Number.isSafeInteger(pw) || (ph as number) < 0 || (pw as number) < 0)
    throw new SpecError(`${where}: patch sizes are non-negative integers, got ${JSON.stringify(v)}`);
  if ((ph === 0 && pw !== 1) || (pw === 0 && ph !== 1))
    throw new SpecError(`${where}: ${JSON.stringify(v)} is not a size; use [0,1] for identity or [1,0] for a zero channel`);
  return [ph as number, pw as number];
}

/**
 * Checks a parsed spec and returns it typed. With `layers`, every layer must be listed with one size per
 * channel and no other layer may appear (unless `partial`: missing layers are then plain ReLUs).
 * @throws {SpecError} naming the layer and channel
 */
export function validateSpec(spec: unknown, layers?: readonly ReluLayerInfo[], opts: { partial?: boolean } = {}): PatchSpec {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) throw new SpecError('spec: expected a JSON object');
  const o = spec as Record<string, unknown>;
  if (o.format !== 'si-patch-spec') throw new SpecError(`spec: "format" must be "si-patch-spec", got ${JSON.stringify(o.format)}`);
  if (o.version !== 1) throw new SpecError(`spec: unsupported version ${JSON.stringify(o.version)} (this reader knows 1)`);
  if (typeof o.model !== 'string' || o.model === '') throw new SpecError('spec: "model" must be a non-empty string');
  if (o.layers === null || typeof o.layers !== 'object' || Array.isArray(o.layers)) throw new SpecError('spec: "layers" must be an object');
  const known = layers ? new Map(layers.map((l) => [l.name, l])) : null;
  const out: Record<string, PatchSize[]> = {};
  for (const [name, sizes] of Object.entries(o.layers as Record<string, unknown>)) {
    if (!Array.isArray(sizes)) throw new SpecError(`layer "${name}": expected a list of [ph, pw], one per channel`);
    const info = known?.get(name);
    if (known && !info) throw new SpecError(`layer "${name}" is not a ReLU layer of model "${o.model}"`);
    if (info && sizes.length !== info.channels)
      throw new SpecError(`layer "${name}": ${sizes.length} patch sizes for ${info.channels} channels`);
    out[name] = sizes.map((s, c) => checkSize(s, `layer "${name}" channel ${c}`));
  }
  if (known && !opts.partial) for (const l of known.values()) if (!(l.name in out)) throw new SpecError(`spec has no entry for layer "${l.name}"`);
  return { format: 'si-patch-spec', version: 1, model: o.model, layers: out };
}

/** Parses and validates a spec from JSON text. @throws {SpecError} */
export function parseSpec(text: string, layers?: readonly ReluLayerInfo[], opts?: { partial?: boolean }): PatchSpec {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new SpecError(`spec is not valid JSON: ${(e as Error).message}`);
  }
  return validateSpec(v, layers, opts);
}

/** JSON text of a spec, one layer per line (diff-friendly). */
export function stringifySpec(spec: PatchSpec): string {
  const layers = Object.entries(spec.layers).map(([n, s]) => `    ${JSON.stringify(n)}: ${JSON.stringify(s)}`);
  return `{\n  "format": "si-patch-spec",\n  "version": 1,\n  "model": ${JSON.stringify(spec.model)},\n  "layers": {\n${layers.join(',\n')}\n  }\n}\n`;
}

/** A spec giving every channel of every layer the same size (default: plain ReLU). */
export function uniformSpec(model: string, layers: readonly ReluLayerInfo[], size: PatchSize = RELU): PatchSpec {
  return { format: 'si-patch-spec', version: 1, model, layers: Object.fromEntries(layers.map((l) => [l.name, Array.from({ length: l.channels }, () => size)])) };
}
