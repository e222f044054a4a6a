/**
 * `si check`: the sign-window report of a network on calibration images. The fixed-point twin runs
 * the images (on the machine that holds the weights and the images), and every comparing layer reports
 * the fraction of its compared values outside the mode's exact window and its predicted sign-error rate
 * (@si/models' windowReport). `si infer` runs it on a few of its own images before the session starts.
 * @module
 */
import { encodeFixed } from '@si/ring';
import { compileFixed, windowLimits, windowReport, type WindowReport } from '@si/models';
import { graphOf, loadManifest, loadSpec, loadWeights } from './models.ts';
import { loadInput, type InputSource } from './input.ts';
import { parseMode } from './session.ts';

export interface WindowCheckOptions {
  model: string;
  weights: string;
  spec?: string;
  mode: string;
  fracBits?: number;
  input: InputSource;
  manifest?: string;
  batch?: number;
  onBatch?(done: number, total: number): void;
}

/** One comparing layer of a window check; rates are fractions of `compared`. */
export interface WindowCheckLayer {
  name: string;
  /** The patch-spec layer of a ReLU-like node, when it differs from the node's name. */
  layer?: string;
  kind: 'relu' | 'patch' | 'clip' | 'maxpool';
  compared: number;
  out_of_window: number;
  beyond_range: number;
  sign_error_rate: number;
  /** Sign errors on values beyond the range (the window wrapped: large errors); the rest are tiny negatives passed. */
  wrap_error_rate: number;
}

/** The report as `si check --json` prints it. */
export interface WindowCheck {
  model: string;
  mode: string;
  images: number;
  /** The window of a plain ReLU in real units: exact on [-limit, -resolution) and [0, limit - resolution), resolution 2^(D-f) (null in full mode). */
  window: { limit: number; resolution: number } | null;
  layers: WindowCheckLayer[];
  max_out_of_window: number;
  max_beyond_range: number;
  max_sign_error_rate: number;
  max_wrap_error_rate: number;
}

/** Runs the fixed-point twin on the input and reports, per comparing layer, what falls outside the window. */
export async function windowCheck(o: WindowCheckOptions): Promise<WindowCheck> {
  const graph = graphOf(o.model);
  const mode = parseMode(o.mode);
  const f = o.fracBits ?? 12;
  const spec = loadSpec(graph, o.spec);
  const model = compileFixed(graph, loadWeights(graph, o.weights), f);
  const { x, count } = loadInput(graph, o.input, loadManifest(o.model, graph, o.manifest));
  const r = await windowReport(model, encodeFixed(x, f, [count, ...graph.inputShape]), mode, {
    ...(spec ? { spec: spec.layers } : {}), batch: o.batch ?? 8, ...(o.onBatch ? { onBatch: o.onBatch } : {}),
  });
  return toCheck(o.model, o.mode, f, r);
}

function toCheck(model: string, mode: string, f: number, r: WindowReport): WindowCheck {
  const frac = (a: number, b: number) => (b ? a / b : 0);
  return {
    model, mode, images: r.images, window: windowLimits(r.mode, f),
    layers: r.layers.map((l) => ({
      name: l.node, ...(l.layer && l.layer !== l.node ? { layer: l.layer } : {}), kind: l.kind, compared: l.compared,
      out_of_window: frac(l.outOfWindow, l.compared), beyond_range: frac(l.beyondRange, l.compared), sign_error_rate: frac(l.signErrors, l.compared),
      wrap_error_rate: frac(l.wrapErrors, l.compared),
    })),
    max_out_of_window: r.maxOutOfWindow, max_beyond_range: r.maxBeyondRange, max_sign_error_rate: r.maxSignErrorRate, max_wrap_error_rate: r.maxWrapErrorRate,
  };
}

/**
 * Layers whose predicted rate of large sign errors (values beyond the window's range, which wrap) is above
 * `threshold`. Tiny negatives taken as positive are not counted: each is an error below the resolution.
 */
export function layersAbove(c: WindowCheck, threshold: number): WindowCheckLayer[] {
  return c.layers.filter((l) => l.wrap_error_rate > threshold);
}

const pct = (v: number) => (v === 0 ? '0' : v < 1e-4 ? `${(100 * v).toExponential(1)}%` : `${(100 * v).toFixed(3)}%`);

/** The report as a table, one line per comparing layer. */
export function formatWindowCheck(c: WindowCheck): string {
  const w = Math.max(5, ...c.layers.map((l) => l.name.length));
  const res = c.window && `2^${Math.log2(c.window.resolution)}`;
  const win = c.window ? `signs exact on [-${c.window.limit}, -${res}) and [0, ${c.window.limit} - ${res})` : 'full ring: every sign exact';
  const lines = [
    `${c.model}, mode ${c.mode} (${win}), ${c.images} image${c.images === 1 ? '' : 's'}`,
    '',
    `${'layer'.padEnd(w)}  ${'kind'.padEnd(7)} ${'compared'.padStart(12)} ${'out of window'.padStart(14)} ${'beyond range'.padStart(13)} ${'sign errors'.padStart(12)} ${'wrapped'.padStart(10)}`,
    ...c.layers.map((l) => `${l.name.padEnd(w)}  ${l.kind.padEnd(7)} ${l.compared.toLocaleString('en-US').padStart(12)} ${pct(l.out_of_window).padStart(14)} ${pct(l.beyond_range).padStart(13)} ${pct(l.sign_error_rate).padStart(12)} ${pct(l.wrap_error_rate).padStart(10)}`),
    '',
    `worst layer: ${pct(c.max_out_of_window)} out of window, ${pct(c.max_beyond_range)} beyond range, ${pct(c.max_sign_error_rate)} predicted sign errors, ${pct(c.max_wrap_error_rate)} of them wrapped`,
    'out of window: beyond the range (the sign wraps) or within 2^D below 0 (a tiny negative may pass as positive);',
    'sign errors: simulated secure comparisons on a random share split; wrapped: those beyond the range, the large',
    'ones (the others are tiny negatives passed, an error below the resolution). A max pool compares differences.',
  ];
  return lines.join('\n');
}
