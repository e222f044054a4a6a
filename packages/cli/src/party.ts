/**
 * One party of a secure inference session, as its own process (or host): load what this role holds
 * (the server its weights, the client its images), connect to the two others over mutually
 * authenticated TLS, agree on the public parameters, set up the model once, then classify the images
 * batch by batch. The client ends with the predictions; every party ends with its traffic and timings.
 * @module
 */
import { LinkServer, type TlsCredentials } from '@si/net';
import { encodeFixed, decodeFixed, shapeSize } from '@si/ring';
import { CLIENT, connectParty, reveal, shareInput, type Deployment, type Party, type Role } from '@si/sharing';
import { argmax, compileFixed, prepareSecure, publicModel, secureForward, setupSecure, type FixedModel, type Graph } from '@si/models';
import { patchReluDrelus, RELU, type PatchSpec } from '@si/patch-relu';
import { graphOf, loadSpec, loadWeights } from './models.ts';
import { idxImages, idxLabels, randomImages } from './data.ts';
import { agree, finish, parseMode, specDigest, type PublicParams } from './session.ts';

/** The client's images: seeded random ones, or an IDX file (with labels to score against). */
export type InputSource =
  | { kind: 'random'; count: number; seed?: string }
  | { kind: 'idx'; images: string; labels?: string; start?: number; count?: number };

export interface PartyConfig {
  role: Role;
  /** Where the server and the helper can be reached (this party's own entry is not used). */
  deployment: Deployment;
  tls: TlsCredentials;
  /** Where to listen (server and helper; port 0 picks a free port, reported by onListening). */
  listen?: { host: string; port: number };
  model: string;
  /** `relu` (default), `file:PATH` or `knapsack:FRACTION[:SEED]`. */
  spec?: string;
  /** Comparison mode (see parseMode); default small16. */
  mode?: string;
  fracBits?: number;
  batch?: number;
  /** The server's weights: `file:PATH` (safetensors) or `synthetic:SEED`. */
  weights?: string;
  /** The client's images. */
  input?: InputSource;
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
  /** Rounds of the layer in one batch. */
  rounds: number;
  /** Seconds in the layer, over all batches. */
  seconds: number;
}

export interface PhaseReport {
  /** Payload bytes this party sent. */
  sent: number;
  /** Sequential rounds (per batch for the online phase). */
  rounds: number;
  seconds: number;
}

/** What a session ran: the public parameters, the images and the DReLU count. */
export interface RunSummary {
  model: string;
  mode: string;
  spec: string;
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
  /** From sharing the input to revealing the logits, all batches (rounds: per batch). */
  online: PhaseReport;
  /** Seconds of each batch's preprocessing and online phase, in order (the first includes warm-up). */
  batchSeconds: { preprocess: number[]; online: number[] };
  layers: LayerReport[];
  /** The client only: top-1 class per image, and the logits. */
  predictions?: number[];
  logits?: number[][];
  /** The client only, with labelled input: the labels. */
  labels?: number[];
  /** Resident memory (MiB) after setup, sampled during the batches (about 20 samples), and at the end. */
  memory: { afterSetupMb: number; samplesMb: number[]; endMb: number };
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

export function loadInput(graph: Graph, src: InputSource): { x: Float32Array; count: number; labels?: number[] } {
  const [C, H, W] = graph.inputShape as [number, number, number];
  if (src.kind === 'random') {
    if (!(Number.isInteger(src.count) && src.count > 0)) throw new Error(`random input needs a positive image count, got ${src.count}`);
    return { x: randomImages([C, H, W], src.count, src.seed ?? 'input'), count: src.count };
  }
  const { x, shape } = idxImages(src.images, src.start ?? 0, src.count);
  if (shape[1] !== C || shape[2] !== H || shape[3] !== W)
    throw new Error(`${src.images} holds ${shape[2]}x${shape[3]}x${shape[1]} images; model "${graph.name}" takes ${H}x${W}x${C}`);
  const labels = src.labels ? Array.from(idxLabels(src.labels, src.start ?? 0, shape[0])) : undefined;
  return { x, count: shape[0], labels };
}

/** DReLUs per image under a spec (null: every ReLU), and ReLUs per image. */
export function dreluCount(graph: Graph, spec: PatchSpec | null): { drelus: number; relus: number } {
  let drelus = 0, relus = 0;
  for (const L of graph.reluLayers()) {
    relus += L.relus;
    drelus += patchReluDrelus([1, L.channels, L.H, L.W], spec?.layers[L.name] ?? new Array(L.channels).fill(RELU));
  }
  return { drelus, relus };
}

const sum = (v: readonly number[]): number => v.reduce((a, b) => a + b, 0);

/**
 * Runs this party's side of the session to the end.
 * @throws on bad configuration before connecting, and on any failure of the session (the peers are
 *   told why, so they stop too)
 */
export async function runParty(cfg: PartyConfig, hooks: PartyHooks = {}): Promise<PartyReport> {
  const graph = graphOf(cfg.model);
  const spec = loadSpec(graph, cfg.spec);
  const modeName = cfg.mode ?? 'small16';
  const mode = parseMode(modeName);
  const f = cfg.fracBits ?? 12;
  const batch = cfg.batch ?? 8;
  if (!(Number.isInteger(batch) && batch > 0)) throw new Error(`batch size must be a positive integer, got ${batch}`);
  if (!(Number.isInteger(f) && f >= 4 && f <= 24)) throw new Error(`fractional bits must be an integer in [4, 24], got ${f}`);
  // What this role holds, loaded before connecting so configuration errors cost no peer a timeout.
  let model: FixedModel;
  if (cfg.role === 'server') {
    if (!cfg.weights) throw new Error('the server needs weights (file:PATH or synthetic:SEED)');
    model = compileFixed(graph, loadWeights(graph, cfg.weights), f);
  } else {
    if (cfg.weights) throw new Error(`only the server holds the weights; the ${cfg.role} must not be given them`);
    model = publicModel(graph, f);
  }
  if ((cfg.role === 'client') !== (cfg.input !== undefined)) throw new Error(cfg.role === 'client' ? 'the client needs input images' : `only the client holds the images; the ${cfg.role} must not be given them`);
  const input = cfg.input ? loadInput(graph, cfg.input) : undefined;
  const params: PublicParams = { model: cfg.model, spec: specDigest(spec), mode: modeName, fracBits: f, batch, preprocess: cfg.preprocess !== false };

  let listener: LinkServer | undefined;
  if (cfg.role !== 'client') {
    if (!cfg.listen) throw new Error(`the ${cfg.role} needs an address to listen on`);
    listener = await LinkServer.listen({ self: cfg.role, host: cfg.listen.host, port: cfg.listen.port, tls: cfg.tls });
    hooks.onListening?.(listener.port);
  }
  let p: Party;
  try {
    p = await connectParty({
      role: cfg.role, deployment: cfg.deployment, tls: cfg.tls, listener,
      link: { timeoutMs: 1000 * (cfg.timeoutSeconds ?? 120) }, connectTimeoutMs: 1000 * (cfg.connectTimeoutSeconds ?? 60),
    });
  } finally {
    await listener?.close();
  }
  try {
    return await session(p, { cfg, graph, spec, mode, model, input, params, batch, f }, hooks);
  } catch (e) {
    p.abort(`${cfg.role}: ${(e as Error).message}`);
    throw e;
  } finally {
    p.close();
  }
}

interface Ctx {
  cfg: PartyConfig;
  graph: Graph;
  spec: PatchSpec | null;
  mode: ReturnType<typeof parseMode>;
  model: FixedModel;
  input: ReturnType<typeof loadInput> | undefined;
  params: PublicParams;
  batch: number;
  f: number;
}

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
  const classes = shapeSize(c.graph.node(c.graph.output).shape);
  const timings = new Map<string, number>();
  const logits: number[][] = [];
  const t1 = performance.now();
  const batchSeconds = { preprocess: [] as number[], online: [] as number[] };
  const mb = () => Math.round(process.memoryUsage().rss / 2 ** 20);
  const memory = { afterSetupMb: mb(), samplesMb: [] as number[], endMb: 0 };
  const every = Math.max(1, Math.floor(batches / 20));
  for (let b = 0; b < batches; b++) {
    const n = Math.min(c.batch, images - b * c.batch);
    const shape = [n, C, H, W];
    const t2 = performance.now();
    where.stage = `batch ${b + 1}/${batches}, preprocessing`;
    const pre = c.cfg.preprocess === false ? undefined : await p.scope('pre', (q) => prepareSecure(q, sm, n), 'preprocess');
    const t3 = performance.now();
    batchSeconds.preprocess.push((t3 - t2) / 1000);
    // One ledger label for every batch (rows add up), so a long session's ledger does not grow.
    await p.scope('batch', async (q) => {
      const x = p.id === CLIENT ? encodeFixed(c.input!.x.subarray(b * c.batch * per, (b * c.batch + n) * per), c.f, shape) : undefined;
      where.stage = `batch ${b + 1}/${batches}, input`;
      const onNode = (node: { name: string }) => ((where.stage = `batch ${b + 1}/${batches}, layer "${node.name}"`), hooks.onLayer?.(b, node.name));
      const y = await secureForward(q, sm, shareInput(q, CLIENT, shape, x), { spec: c.spec?.layers, mode: c.mode, timings, pre, onNode });
      where.stage = `batch ${b + 1}/${batches}, output`;
      const opened = await reveal(q, y, 'client');
      if (opened) {
        const v = decodeFixed(opened, c.f);
        for (let i = 0; i < n; i++) logits.push(Array.from(v.subarray(i * classes, (i + 1) * classes)));
      }
    });
    batchSeconds.online.push((performance.now() - t3) / 1000);
    hooks.onBatch?.(b + 1, batches, (performance.now() - t1) / 1000);
    if ((b + 1) % every === 0) memory.samplesMb.push(mb());
  }
  where.stage = 'session end';
  await finish(p);
  memory.endMb = mb();
  return report(p, c, { images, batches, setupSeconds, batchSeconds, timings, logits, memory });
}

function report(p: Party, c: Ctx, r: { images: number; batches: number; setupSeconds: number; batchSeconds: PartyReport['batchSeconds']; timings: Map<string, number>; logits: number[][]; memory: PartyReport['memory'] }): PartyReport {
  const rows = p.ledger.rows();
  const sent = (row: { sent: Record<string, number> }) => Object.values(row.sent).reduce((a, b) => a + b, 0);
  const layers = new Map<string, LayerReport>();
  for (const n of c.graph.nodes) if (r.timings.has(n.name)) layers.set(n.name, { name: n.name, op: n.op, sent: 0, rounds: 0, seconds: r.timings.get(n.name)! });
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
    if (rest.length === 0) L.rounds = perBatch;
  }
  const { drelus, relus } = dreluCount(c.graph, c.spec);
  const out: PartyReport = {
    role: p.role, model: c.params.model, mode: c.params.mode, spec: c.params.spec, fracBits: c.f,
    images: r.images, batch: c.batch, batches: r.batches, drelus, relus,
    setup: { sent: p.ledger.totals({ phase: 'setup' }).sent, rounds: setupRounds, seconds: r.setupSeconds },
    preprocess: { sent: p.ledger.totals({ phase: 'preprocess' }).sent, rounds: preRounds, seconds: sum(r.batchSeconds.preprocess) },
    online: { sent: p.ledger.totals({ phase: 'online' }).sent, rounds: onlineRounds, seconds: sum(r.batchSeconds.online) },
    batchSeconds: r.batchSeconds,
    layers: [...layers.values()],
    memory: r.memory,
  };
  if (p.id === CLIENT) {
    out.logits = r.logits;
    out.predictions = r.logits.map((l) => argmax(l));
    if (c.input?.labels) out.labels = c.input.labels;
  }
  return out;
}
