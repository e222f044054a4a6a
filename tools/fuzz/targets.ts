/**
 * Fuzz targets: each reader of untrusted bytes gets random and mutated inputs. An input passes when the
 * reader returns or throws the library's own typed error; anything else (a TypeError, RangeError from
 * deep inside, a crash) is a failure. Time per input and the process's memory are watched too.
 * @module
 */
import seedrandom from 'seedrandom';
import { encodeHeader, FrameDecoder, FrameError } from '@si/net';
import { parseSpec, SpecError, stringifySpec, uniformSpec } from '@si/patch-relu';
import { InstanceError, parseInstance, stringifyInstance } from '@si/knapsack';
import { fmnistResNet, importOnnx, initParams, loadParams, OnnxError, readSafetensors, SafetensorsError, saveParams } from '@si/models';
import { onnxSample } from '../../packages/models/test/onnx-fixture.ts';

export type Rng = () => number;

export interface Target {
  name: string;
  /** Valid inputs to mutate. */
  seeds(): Uint8Array[];
  /** Runs the reader on one input; throws only what the reader throws. */
  run(input: Uint8Array): void;
  /** The reader's own error types. */
  typed(e: unknown): boolean;
}

const enc = new TextEncoder(), dec = new TextDecoder();
const int = (r: Rng, n: number) => Math.floor(r() * n);

// --- mutators ---------------------------------------------------------------------------------------

const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff];

/** One random edit of the bytes (bit flip, byte set, interesting u32, insert, delete, duplicate, truncate, extend). */
export function mutateBytes(b: Uint8Array, r: Rng): Uint8Array {
  const out = Uint8Array.from(b);
  const at = () => int(r, Math.max(1, out.length));
  switch (int(r, 8)) {
    case 0:
      if (out.length) out[at()]! ^= 1 << int(r, 8);
      return out;
    case 1:
      if (out.length) out[at()] = int(r, 256);
      return out;
    case 2: {
      if (out.length < 4) return out;
      new DataView(out.buffer).setUint32(int(r, out.length - 3), INTERESTING[int(r, INTERESTING.length)]!, r() < 0.5);
      return out;
    }
    case 3: {
      const i = at(), n = 1 + int(r, 16);
      const ins = Uint8Array.from({ length: n }, () => int(r, 256));
      return concat(out.subarray(0, i), ins, out.subarray(i));
    }
    case 4: {
      const i = at(), n = 1 + int(r, Math.max(1, out.length >> 3));
      return concat(out.subarray(0, i), out.subarray(i + n));
    }
    case 5: {
      const i = at(), n = 1 + int(r, 64);
      return concat(out.subarray(0, i), out.subarray(i, i + n), out.subarray(i));
    }
    case 6:
      return out.subarray(0, at());
    default:
      return concat(out, Uint8Array.from({ length: 1 + int(r, 32) }, () => int(r, 256)));
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
}

const ODD_VALUES: unknown[] = [null, true, false, 0, -1, 1, 0.5, -0.5, 1e308, -1e308, 2 ** 53, 2 ** 64, '', 'x', '0', [], {}, [0], [1, 1], [0, 1], [1, 0], [-1, 2], [[1, 1]], { a: 1 }, 'si-patch-spec', 'si-mckp'];

/** One random edit of a JSON document's structure: a value replaced, deleted, duplicated or an array resized. */
export function mutateJson(text: string, r: Rng): string {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return text;
  }
  const paths: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
  const walk = (v: unknown, depth: number) => {
    if (depth > 6 || v === null || typeof v !== 'object') return;
    const entries = Array.isArray(v) ? v.map((x, i) => [i, x] as const) : Object.entries(v);
    for (const [k, x] of entries) {
      if (paths.length < 5000 || r() < 0.01) paths.push({ parent: v as Record<string, unknown>, key: k });
      walk(x, depth + 1);
    }
  };
  walk(doc, 0);
  if (!paths.length) return JSON.stringify(ODD_VALUES[int(r, ODD_VALUES.length)]);
  const { parent, key } = paths[int(r, paths.length)]!;
  const p = parent as Record<string | number, unknown>;
  switch (int(r, 4)) {
    case 0:
      p[key] = ODD_VALUES[int(r, ODD_VALUES.length)];
      break;
    case 1:
      if (Array.isArray(parent)) parent.splice(Number(key), 1);
      else delete p[key];
      break;
    case 2:
      if (Array.isArray(parent)) parent.splice(Number(key), 0, structuredClone(parent[Number(key)]));
      else p[`${key}_`] = p[key];
      break;
    default: {
      const v = p[key];
      if (Array.isArray(v)) v.length = int(r, v.length * 2 + 2);
      else p[key] = typeof v === 'number' ? v * (r() < 0.5 ? -1 : 1e6) + int(r, 3) - 1 : [v];
    }
  }
  return JSON.stringify(doc);
}

/** A random input: random bytes, or a mutation chain (1..8 edits) of a seed. */
function nextInput(t: Target, seeds: Uint8Array[], r: Rng, json: boolean): Uint8Array {
  if (r() < 0.05) return Uint8Array.from({ length: int(r, 512) }, () => int(r, 256));
  let b = seeds[int(r, seeds.length)]!;
  const edits = 1 + int(r, 8);
  for (let i = 0; i < edits; i++) b = json && r() < 0.6 ? enc.encode(mutateJson(dec.decode(b), r)) : mutateBytes(b, r);
  void t;
  return b;
}

// --- targets -----------------------------------------------------------------------------------------

const fmnist = fmnistResNet();
const layers = fmnist.reluLayers().map((l) => ({ name: l.name, channels: l.channels, H: l.H, W: l.W }));

function frames(r: Rng): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < 1 + int(r, 4); i++) {
    const payload = Uint8Array.from({ length: int(r, 64) }, () => int(r, 256));
    const stamps = Array.from({ length: int(r, 4) }, () => int(r, 10));
    parts.push(encodeHeader(`t${i}.${int(r, 1000)}`, stamps, payload.length, int(r, 2) ? `scope${int(r, 5)}/layer` : ''), payload);
  }
  return concat(...parts);
}

const MAX_PAYLOAD = 1 << 16;

export const TARGETS: Target[] = [
  {
    name: 'frame decoder',
    seeds: () => {
      const r = seedrandom('frame seeds');
      return Array.from({ length: 8 }, () => frames(r));
    },
    run: (input) => {
      // Any chunking of the stream; buffered bytes never exceed one frame's worth.
      const d = new FrameDecoder({ maxPayload: MAX_PAYLOAD });
      const r = seedrandom(String(input.length));
      for (let o = 0; o < input.length;) {
        const n = 1 + int(r, 40);
        d.push(input.subarray(o, o + n));
        o += n;
        if (d.pending > MAX_PAYLOAD + 16 + 255 + 4096 + 4 * 64 + 40) throw new Error(`decoder buffers ${d.pending} bytes`);
      }
    },
    typed: (e) => e instanceof FrameError,
  },
  {
    name: 'patch-spec validator',
    seeds: () => {
      const s = uniformSpec('fmnist_resnet', layers);
      s.layers.stem = s.layers.stem!.map((_, c) => (c % 3 === 0 ? [2, 3] : c % 3 === 1 ? [0, 1] : [1, 1]));
      return [enc.encode(stringifySpec(s)), enc.encode(stringifySpec(uniformSpec('fmnist_resnet', layers, [7, 7])))];
    },
    run: (input) => void parseSpec(dec.decode(input), layers),
    typed: (e) => e instanceof SpecError,
  },
  {
    name: 'knapsack instance reader',
    seeds: () => {
      const r = seedrandom('knapsack seeds');
      return [3, 20].map((G) => enc.encode(stringifyInstance({
        budget: 10 * G,
        groups: Array.from({ length: G }, () => ({ costs: [0, 4, 9, 16], values: [r() * 10, r() * 5, r() * 2, 0] })),
      })));
    },
    run: (input) => void parseInstance(dec.decode(input)),
    typed: (e) => e instanceof InstanceError,
  },
  {
    name: 'safetensors reader',
    seeds: () => [saveParams(fmnist, initParams(fmnist, 1), { note: 'seed' })],
    run: (input) => {
      readSafetensors(input);
      loadParams(fmnist, input);
    },
    typed: (e) => e instanceof SafetensorsError,
  },
  {
    name: 'ONNX importer',
    seeds: () => [onnxSample(1), onnxSample(2)],
    run: (input) => void importOnnx(input),
    typed: (e) => e instanceof OnnxError,
  },
];

const JSON_TARGETS = new Set(['patch-spec validator', 'knapsack instance reader']);

export interface FuzzResult {
  target: string;
  inputs: number;
  accepted: number;
  typedErrors: number;
  failures: number;
  /** The first few failures: input (base64, up to 2 kB) and the error. */
  examples: { input: string; error: string }[];
  slowestMs: number;
  seconds: number;
}

/** Runs `count` inputs against a target. */
export function fuzz(t: Target, count: number, seed: string, onProgress?: (done: number) => void): FuzzResult {
  const r = seedrandom(`${seed}/${t.name}`);
  const seeds = t.seeds();
  for (const s of seeds) t.run(s); // the seeds themselves are valid
  const res: FuzzResult = { target: t.name, inputs: 0, accepted: 0, typedErrors: 0, failures: 0, examples: [], slowestMs: 0, seconds: 0 };
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const input = nextInput(t, seeds, r, JSON_TARGETS.has(t.name));
    const s = performance.now();
    try {
      t.run(input);
      res.accepted++;
    } catch (e) {
      if (t.typed(e)) res.typedErrors++;
      else {
        res.failures++;
        if (res.examples.length < 5) res.examples.push({ input: Buffer.from(input.subarray(0, 2048)).toString('base64'), error: String((e as Error)?.stack ?? e).split('\n').slice(0, 3).join(' | ') });
      }
    }
    res.slowestMs = Math.max(res.slowestMs, performance.now() - s);
    res.inputs++;
    if (onProgress && (i + 1) % 1000 === 0) onProgress(i + 1);
  }
  res.seconds = (performance.now() - t0) / 1000;
  return res;
}
