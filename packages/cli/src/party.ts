/**
 * One party of a secure inference session, as its own process (or host): load what this role holds
 * (the server its weights, the client its images), connect to the two others over mutually
 * authenticated TLS, agree on the public parameters, set up the model once, then classify the images
 * batch by batch. The client ends with what the reveal mode opens to it (by default only the top-1 class
 * per image); every party ends with its traffic and timings.
 * @module
 */
import { LinkServer, type PublicClientTls, type TlsCredentials } from '@si/net';
import { encodeFixed } from '@si/ring';
import { CLIENT, connectParty, peersOf, type Deployment, type Party, type Role } from '@si/sharing';
import { classifyCost, compileFixed, parseReveal, publicModel, revealName, secureBatch, setupSecure, type Classified, type FixedModel, type Graph, type Reveal } from '@si/models';
import { patchClipDrelus, patchReluDrelus, RELU, type PatchSpec } from '@si/patch-relu';
import { graphOf, loadSpec, loadWeights } from './models.ts';
import { upsampleLabels } from './labels.ts';
import { loadInput, type InputSource, type LoadedInput } from './input.ts';
import { loadManifest } from './models.ts';
import { mkdirSync } from 'node:fs';
import ndarray, { type NdArray } from 'ndarray';
import { basename, join } from 'node:path';
import { className, labelMapPixels, networkView, overlayPixels, type Manifest } from '@si/images';
import { readImage, writePng } from '@si/images/node';
import { agree, finish, parseMode, specDigest, type PublicParams } from './session.ts';

export interface PartyConfig {
  role: Role;
  /** Where the server and the helper can be reached (this party's own entry is not used). */
  deployment: Deployment;
  /** TLS credentials; a public client of a service (`service`) may have none of its own. */
  tls: TlsCredentials | PublicClientTls;
  /** The client of a service (si serve): ask the server for a session, then join it at the helper. */
  service?: boolean;
  /** Where to listen (server and helper; port 0 picks a free port, reported by onListening). */
  listen?: { host: string; port: number };
  model: string;
  /** `relu` (default), `file:PATH`, `knapsack:FRACTION[:SEED]` or `paperlike:FRACTION[:SEED]` (see loadSpec). */
  spec?: string;
  /** Comparison mode (see parseMode); default small16. */
  mode?: string;
  /** What the client learns: `label` (default: the top-1 class only), `topk:K` or `logits`. */
  reveal?: string;
  fracBits?: number;
  batch?: number;
  /** The server's weights: `file:PATH` (safetensors) or `synthetic:SEED`. */
  weights?: string;
  /** The client's images. */
  input?: InputSource;
  /** The client: the model manifest (preprocessing, class names); default: the one shipped for the model. */
  manifest?: string;
  /** The client, segmentation networks: write each label map and an overlay on the input here (PNG). */
  outPng?: string;
  /**
   * Do each batch's input-independent work (the linear layers' mask products) in a preprocessing step
   * before its input is shared (default true); false folds it into the online phase.
   */
  preprocess?: boolean;
  /** Seconds to wait for a peer's message (default 120) and for the peers to connect (default 60). */
  timeoutSeconds?: number;
  connectTimeoutSeconds?: number;
}

export interface LayerReport {
  name: string;
  op: string;
  /** Payload bytes this party sent in the layer, over all batches. */
  sent: number;
  /** Payload bytes this party received in the layer, over all batches. */
  received: number;
  /** Rounds of the layer in one batch. */
  rounds: number;
  /** Seconds in the layer, over all batches. */
  seconds: number;
}

export interface PhaseReport {
  /** Payload bytes this party sent. */
  sent: number;
  /** Payload bytes this party received. */
  received: number;
  /** Sequential rounds (per batch for the online phase). */
  rounds: number;
  seconds: number;
}

/** What a session ran: the public parameters, the images and the DReLU count. */
export interface RunSummary {
  model: string;
  mode: string;
  spec: string;
  /** What the client learned: label, topk:K or logits. */
  reveal: string;
  fracBits: number;
  images: number;
  batch: number;
  batches: number;
  /** DReLUs per image (the spec's), and the network's ReLUs per image. */
  drelus: number;
  relus: number;
}

export interface PartyReport extends RunSummary {
  role: Role;
  setup: PhaseReport;
  /** Per-batch input-independent work, all batches (rounds: per batch). */
  preprocess: PhaseReport;
  /** From sharing the input to the reveal, all batches (rounds: per batch). */
  online: PhaseReport;
  /** Seconds of each batch's preprocessing and online phase, in order (the first includes warm-up). */
  batchSeconds: { preprocess: number[]; online: number[] };
  layers: LayerReport[];
  /**
   * The client only: the top-1 class per image (per pixel for a segmentation network: each image's
   * H x W map, flattened in order; labelShape says so).
   */
  labels?: number[];
  labelShape?: number[];
  /**
   * The client only, segmentation: the resolution the secure argmax ran at, when the label map was then
   * enlarged to the input's (see labels.ts).
   */
  labelsFrom?: [number, number];
  /** The client only, reveal topk:K: the K best classes per image, best first. */
  topk?: number[][];
  /** The client only, reveal logits: the network's outputs per image. */
  logits?: number[][];
  /** The client only, with labelled input: the true labels. */
  truth?: number[];
  /** The client only: per image, its name and what was learned about it, with class names. */
  results?: ImageResult[];
  /** The client only: inputs that could not be used (named, with why); the others ran. */
  skipped?: { image: string; error: string }[];
  /** Resident memory (MiB) after setup, sampled during the batches (about 20 samples), at the end, and the process's peak. */
  memory: { afterSetupMb: number; samplesMb: number[]; endMb: number; peakMb: number };
}

export interface PartyHooks {
  /** The server or helper is listening (after loading what it holds, before the peers connect). */
  onListening?(port: number): void;
  /** After the session parameters are agreed. */
  onConnected?(info: { images: number; batches: number }): void;
  onSetup?(seconds: number): void;
  onBatch?(done: number, total: number, seconds: number): void;
  /** A node of the network starts (batch from 0). */
  onLayer?(batch: number, node: string): void;
}

/**
 * DReLUs per image under a spec (null: every ReLU), and ReLUs per image. A clip layer (ReLU6) counts its
 * upper clips too, so its all-ReLU count is twice its ReLUs.
 */
export function dreluCount(graph: Graph, spec: PatchSpec | null): { drelus: number; relus: number } {
  let drelus = 0, relus = 0;
  for (const L of graph.reluLayers()) {
    relus += L.relus;
    const shape = [1, L.channels, L.H, L.W], sizes = spec?.layers[L.name] ?? new Array(L.channels).fill(RELU);
    drelus += L.clipped ? patchClipDrelus(shape, sizes) : patchReluDrelus(shape, sizes);
  }
  return { drelus, relus };
}

const sum = (v: readonly number[]): number => v.reduce((a, b) => a + b, 0);

/** What a party loads before any peer connects (its weights or images, the model, spec and modes). */
export type PartySetup = Omit<PartyConfig, 'deployment' | 'tls' | 'listen'>;

/**
 * Loads what this role holds and checks the configuration, before any connection: a configuration
 * error costs no peer a timeout. A service loads once and runs many sessions on the result.
 * @throws on bad configuration
 */
export function loadParty(cfg: PartySetup): LoadedParty {
  const graph = graphOf(cfg.model);
  const spec = loadSpec(graph, cfg.spec);
  const modeName = cfg.mode ?? 'small16';
  const mode = parseMode(modeName);
  const reveal = parseReveal(cfg.reveal ?? 'label');
  const f = cfg.fracBits ?? 12;
  const batch = cfg.batch ?? 8;
  if (!(Number.isInteger(batch) && batch > 0)) throw new Error(`batch size must be a positive integer, got ${batch}`);
  if (!(Number.isInteger(f) && f >= 4 && f <= 24)) throw new Error(`fractional bits must be an integer in [4, 24], got ${f}`);
  let model: FixedModel;
  if (cfg.role === 'server') {
    if (!cfg.weights) throw new Error('the server needs weights (file:PATH or synthetic:SEED)');
    model = compileFixed(graph, loadWeights(graph, cfg.weights), f);
  } else {
    if (cfg.weights) throw new Error(`only the server holds the weights; the ${cfg.role} must not be given them`);
    model = publicModel(graph, f);
  }
  classifyCost(model, 1, reveal); // refuses a reveal mode the model's output does not fit, before connecting
  if ((cfg.role === 'client') !== (cfg.input !== undefined)) throw new Error(cfg.role === 'client' ? 'the client needs input images' : `only the client holds the images; the ${cfg.role} must not be given them`);
  const manifest = cfg.role === 'client' ? loadManifest(cfg.model, graph, cfg.manifest) : undefined;
  if (cfg.outPng !== undefined && graph.node(graph.output).shape.length !== 3)
    throw new Error(`--out-png writes label maps: model "${cfg.model}" is a classifier (output [${graph.node(graph.output).shape.join(', ')}]), not a segmentation network`);
  if (cfg.outPng !== undefined && cfg.role !== 'client') throw new Error(`only the client learns the label maps; the ${cfg.role} must not be given --out-png`);
  const input = cfg.input ? loadInput(graph, cfg.input, manifest) : undefined;
  const params: PublicParams = { model: cfg.model, spec: specDigest(spec), mode: modeName, reveal: revealName(reveal), fracBits: f, batch, preprocess: cfg.preprocess !== false };
  return { cfg, graph, spec, mode, reveal, model, input, manifest, params, batch, f };
}

/**
 * Runs this party's side of the session to the end.
 * @throws on bad configuration before connecting, and on any failure of the session (the peers are
 *   told why, so they stop too)
 */
export async function runParty(cfg: PartyConfig, hooks: PartyHooks = {}): Promise<PartyReport> {
  const loaded = loadParty(cfg);
  let listener: LinkServer | undefined;
  if (cfg.role !== 'client' && !cfg.service) {
    if (!cfg.listen) throw new Error(`the ${cfg.role} needs an address to listen on`);
    if ('anonymous' in cfg.tls) throw new Error(`the ${cfg.role} needs a certificate`);
    listener = await LinkServer.listen({ self: cfg.role, host: cfg.listen.host, port: cfg.listen.port, tls: cfg.tls, peers: peersOf(cfg.role) });
    hooks.onListening?.(listener.port);
  }
  let p: Party;
  try {
    p = await connectParty({
      role: cfg.role, deployment: cfg.deployment, tls: cfg.tls, listener, service: cfg.service,
      link: { timeoutMs: 1000 * (cfg.timeoutSeconds ?? 120) }, connectTimeoutMs: 1000 * (cfg.connectTimeoutSeconds ?? 60),
    });
  } finally {
    await listener?.close();
  }
  return runSession(p, loaded, hooks);
}

/**
 * Runs one session on a connected party (keys agreed) with what loadParty loaded; closes the party at
 * the end.
 * @throws on any failure of the session (the peers are told why, so they stop too)
 */
export async function runSession(p: Party, loaded: LoadedParty, hooks: PartyHooks = {}): Promise<PartyReport> {
  try {
    return await session(p, loaded, hooks);
  } catch (e) {
    p.abort(`${loaded.cfg.role}: ${(e as Error).message}`);
    throw e;
  } finally {
    p.close();
  }
}

/** What loadParty loaded; the same for every session of a service. */
export interface LoadedParty {
  cfg: PartySetup;
  graph: Graph;
  spec: PatchSpec | null;
  mode: ReturnType<typeof parseMode>;
  reveal: Reveal;
  model: FixedModel;
  input: LoadedInput | undefined;
  manifest: Manifest | undefined;
  params: PublicParams;
  batch: number;
  f: number;
}
type Ctx = LoadedParty;

/** Runs the session; an error says where it happened (agreement, setup, or the batch and layer). */
async function session(p: Party, c: Ctx, hooks: PartyHooks): Promise<PartyReport> {
  const where = { stage: 'session agreement' };
  try {
    return await run(p, c, hooks, where);
  } catch (e) {
    const err = e as Error;
    err.message = `${where.stage}: ${err.message}`;
    throw err;
  }
}

async function run(p: Party, c: Ctx, hooks: PartyHooks, where: { stage: string }): Promise<PartyReport> {
  const t0 = performance.now();
  const images = await agree(p, c.params, c.input?.count);
  const batches = Math.ceil(images / c.batch);
  hooks.onConnected?.({ images, batches });
  where.stage = 'weight setup';
  const sm = await p.scope('model', (q) => setupSecure(q, c.model), 'setup');
  const setupSeconds = (performance.now() - t0) / 1000;
  hooks.onSetup?.(setupSeconds);

  const [C, H, W] = c.graph.inputShape as [number, number, number];
  const per = C * H * W;
  const timings = new Map<string, number>();
  const outs: Classified[] = [];
  const t1 = performance.now();
  const batchSeconds = { preprocess: [] as number[], online: [] as number[] };
  const mb = () => Math.round(process.memoryUsage().rss / 2 ** 20);
  const memory = { afterSetupMb: mb(), samplesMb: [] as number[], endMb: 0, peakMb: 0 };
  const every = Math.max(1, Math.floor(batches / 20));
  for (let b = 0; b < batches; b++) {
    const n = Math.min(c.batch, images - b * c.batch);
    const shape = [n, C, H, W];
    const x = p.id === CLIENT ? encodeFixed(c.input!.x.subarray(b * c.batch * per, (b * c.batch + n) * per), c.f, shape) : undefined;
    const t2 = performance.now();
    let t3 = t2;
    where.stage = `batch ${b + 1}/${batches}, preprocessing`;
    const onPreprocessed = () => ((t3 = performance.now()), batchSeconds.preprocess.push((t3 - t2) / 1000), (where.stage = `batch ${b + 1}/${batches}, input`));
    const onNode = (node: { name: string }) => ((where.stage = `batch ${b + 1}/${batches}, layer "${node.name}"`), hooks.onLayer?.(b, node.name));
    const onOutput = () => (where.stage = `batch ${b + 1}/${batches}, output (${revealName(c.reveal)})`);
    const out = await secureBatch(p, sm, shape, c.reveal, { preprocess: c.cfg.preprocess !== false, x, spec: c.spec?.layers, mode: c.mode, timings, onNode, onOutput, onPreprocessed });
    if (out) outs.push(out);
    batchSeconds.online.push((performance.now() - t3) / 1000);
    hooks.onBatch?.(b + 1, batches, (performance.now() - t1) / 1000);
    if ((b + 1) % every === 0) memory.samplesMb.push(mb());
  }
  where.stage = 'session end';
  await finish(p);
  memory.endMb = mb();
  memory.peakMb = Math.round(process.resourceUsage().maxRSS / 1024); // maxRSS is in KiB
  return report(p, c, { images, batches, setupSeconds, batchSeconds, timings, outs, memory });
}

/**
 * Segmentation: each image's label map (VOC colours) and, for image inputs, an overlay on the image as
 * the network saw it, as DIR/NAME.labels.png and DIR/NAME.overlay.png; the files go in `pictures`.
 */
function writePictures(c: Ctx, r: Partial<PartyReport>): void {
  const dir = c.cfg.outPng!;
  mkdirSync(dir, { recursive: true });
  const [, H, W] = r.labelShape as [number, number, number];
  const src = c.cfg.input!;
  r.results!.forEach((res, i) => {
    const labels = r.labels!.slice(i * H * W, (i + 1) * H * W);
    const stem = `${String(i).padStart(3, '0')}-${basename(res.image).replace(/\.[^.]*$/, '').replace(/[^\w.-]+/g, '_')}`;
    const files = [join(dir, `${stem}.labels.png`)];
    writePng(files[0]!, labelMapPixels(labels, H, W));
    const pixels = src.kind === 'files' ? readImage(res.image).pixels : src.kind === 'pixels' ? src.images.find((im) => im.name === res.image)?.pixels : undefined;
    if (pixels && c.manifest) {
      files.push(join(dir, `${stem}.overlay.png`));
      writePng(files[1]!, overlayPixels(networkView(pixels, c.manifest, res.image), labels, H, W));
    }
    res.pictures = files;
  });
}

/** What the client learned about one image, with class names from the manifest. */
export interface ImageResult {
  image: string;
  /** Classifiers: the top-1 class and its name. */
  label?: number;
  class?: string;
  /** reveal topk:K: the K best, best first. */
  top?: { label: number; class: string }[];
  /** reveal logits: the top-1 class's logit. */
  score?: number;
  /** Segmentation: the classes in the label map, most pixels first. */
  classes?: { label: number; class: string; pixels: number }[];
  /** Segmentation with --out-png: the label-map picture and the overlay written for the image. */
  pictures?: string[];
}

function imageResults(c: Ctx, r: Partial<PartyReport>): ImageResult[] {
  const names = c.input!.names, m = c.manifest;
  const per = r.labels!.length / names.length;
  return names.map((image, i) => {
    if (per > 1) {
      const counts = new Map<number, number>();
      for (let k = i * per; k < (i + 1) * per; k++) counts.set(r.labels![k]!, (counts.get(r.labels![k]!) ?? 0) + 1);
      const classes = [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0]).map(([label, pixels]) => ({ label, class: className(m, label), pixels }));
      return { image, classes };
    }
    const label = r.labels![i]!;
    const out: ImageResult = { image, label, class: className(m, label) };
    if (r.topk) out.top = r.topk[i]!.map((l) => ({ label: l, class: className(m, l) }));
    if (r.logits) out.score = r.logits[i]![label]!;
    return out;
  });
}

/**
 * The revealed logits of a report (reveal logits) as one ndarray [N, ...output shape], for code that
 * works on arrays rather than JSON.
 * @throws {Error} when the report has no logits (they were not revealed)
 */
export function logitsArray(r: Pick<PartyReport, 'logits' | 'labelShape' | 'reveal'>): NdArray<Float64Array> {
  if (!r.logits) throw new Error(`this report revealed ${r.reveal}, not the logits (run with reveal "logits")`);
  const N = r.logits.length, per = r.logits[0]!.length;
  const spatial = r.labelShape!.slice(1);
  const classes = per / Math.max(1, spatial.reduce((a, b) => a * b, 1));
  return ndarray(Float64Array.from(r.logits.flat()), [N, classes, ...spatial]);
}

/** What the client learned, over the batches, as report fields. */
function clientFields(c: Ctx, outs: readonly Classified[]): Partial<PartyReport> {
  const rows = (v: ArrayLike<number>, k: number) => Array.from({ length: v.length / k }, (_, i) => Array.from(v).slice(i * k, (i + 1) * k));
  let labels = outs.flatMap((o) => Array.from(o.labels));
  const images = outs.reduce((s, o) => s + o.labelShape[0]!, 0);
  let labelShape = [images, ...outs[0]!.labelShape.slice(1)];
  // A label map below the input's resolution (a segmentation head at 1/8): enlarged to it, in the clear.
  const [, H, W] = c.graph.inputShape as [number, number, number];
  const map = labelShape.length === 3 ? ([labelShape[1]!, labelShape[2]!] as [number, number]) : undefined;
  const enlarged = map !== undefined && (map[0] !== H || map[1] !== W);
  if (enlarged) {
    labels = upsampleLabels(labels, images, map, [H, W]);
    labelShape = [images, H, W];
  }
  const out: Partial<PartyReport> = { labels, labelShape, ...(enlarged ? { labelsFrom: map } : {}) };
  if (c.reveal.kind === 'topk') out.topk = outs.flatMap((o) => rows(o.topk!, (c.reveal as { k: number }).k));
  if (c.reveal.kind === 'logits') out.logits = outs.flatMap((o) => rows(o.logits!.data, o.logits!.data.length / o.labelShape[0]!));
  if (c.input?.labels) out.truth = c.input.labels;
  out.results = imageResults(c, out);
  if (c.input?.skipped.length) out.skipped = c.input.skipped;
  if (c.cfg.outPng !== undefined) writePictures(c, out);
  return out;
}

function report(p: Party, c: Ctx, r: { images: number; batches: number; setupSeconds: number; batchSeconds: PartyReport['batchSeconds']; timings: Map<string, number>; outs: Classified[]; memory: PartyReport['memory'] }): PartyReport {
  const rows = p.ledger.rows();
  const sent = (row: { sent: Record<string, number> }) => Object.values(row.sent).reduce((a, b) => a + b, 0);
  const received = (row: { received: Record<string, number> }) => Object.values(row.received).reduce((a, b) => a + b, 0);
  const phase = (ph: 'setup' | 'preprocess' | 'online') => p.ledger.totals({ phase: ph });
  const layers = new Map<string, LayerReport>();
  for (const n of c.graph.nodes) if (r.timings.has(n.name)) layers.set(n.name, { name: n.name, op: n.op, sent: 0, received: 0, rounds: 0, seconds: r.timings.get(n.name)! });
  // The reveal, after the network's layers: its argmax (or top-k, or truncation) and the opening.
  layers.set('output', { name: 'output', op: c.reveal.kind === 'logits' ? 'reveal' : c.reveal.kind === 'topk' ? 'topk' : 'argmax', sent: 0, received: 0, rounds: 0, seconds: r.timings.get('output') ?? 0 });
  let onlineRounds = 0, setupRounds = 0, preRounds = 0;
  for (const row of rows) {
    if (row.phase === 'setup') {
      if (!row.label.includes('/')) setupRounds += row.rounds;
      continue;
    }
    // Rows sum over the batches; every batch has the same rounds.
    const perBatch = row.calls > 0 ? row.rounds / row.calls : 0;
    if (row.phase === 'preprocess') {
      if (row.label === 'pre') preRounds = perBatch;
      continue;
    }
    const [b, node, ...rest] = row.label.split('/');
    if (b !== 'batch') continue;
    if (node === undefined) onlineRounds = perBatch;
    const L = node === undefined ? undefined : layers.get(node);
    if (!L) continue;
    L.sent += sent(row);
    L.received += received(row);
    if (rest.length === 0) L.rounds = perBatch;
  }
  const { drelus, relus } = dreluCount(c.graph, c.spec);
  const out: PartyReport = {
    role: p.role, model: c.params.model, mode: c.params.mode, spec: c.params.spec, reveal: c.params.reveal, fracBits: c.f,
    images: r.images, batch: c.batch, batches: r.batches, drelus, relus,
    setup: { sent: phase('setup').sent, received: phase('setup').received, rounds: setupRounds, seconds: r.setupSeconds },
    preprocess: { sent: phase('preprocess').sent, received: phase('preprocess').received, rounds: preRounds, seconds: sum(r.batchSeconds.preprocess) },
    online: { sent: phase('online').sent, received: phase('online').received, rounds: onlineRounds, seconds: sum(r.batchSeconds.online) },
    batchSeconds: r.batchSeconds,
    layers: [...layers.values()],
    memory: r.memory,
  };
  return p.id === CLIENT ? { ...out, ...clientFields(c, r.outs) } : out;
}
