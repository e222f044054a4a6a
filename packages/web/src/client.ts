/**
 * The client party in a browser: joins a session of a running service (si serve with --public-clients
 * and --web) over two WebSockets, agrees on the service's public parameters, and classifies images
 * batch by batch; the images leave only as shares, and only the label comes back (label-only reveal).
 * The same protocol code as the Node client (the parties cannot tell them apart).
 * @module
 */
import { connectWebSocket, Ledger, type Link, type WebSocketClass } from '@si/net';
import { CLIENT, HELPER, SERVER, startParty, type PartyId } from '@si/sharing';
import { encodeFixed } from '@si/ring';
import { parseSpec, type PatchSpec } from '@si/patch-relu';
import { agree, finish, fmnistResNet, parseMode, parseReveal, publicModel, secureBatch, setupSecure, specDigest, type Graph, type PublicParams } from '@si/models';

/** The architectures a page can run (the graph is public; the weights stay with the server). */
export const WEB_MODELS: Record<string, () => Graph> = { 'fmnist-resnet': () => fmnistResNet() };

/** What the service publishes at /config.json: its public parameters and where its parties are. */
export interface ServiceConfig extends PublicParams {
  /** wss:// URLs of the server and the helper. */
  server: string;
  helper: string;
}

export interface WebProgress {
  /** A layer started (batch from 0). */
  layer?: { batch: number; node: string };
  /** Batches done of all. */
  batches?: { done: number; total: number };
  sent: number;
  received: number;
}

export interface WebResult {
  labels: number[];
  sent: number;
  received: number;
  /** From the parameters' agreement to the last label (connecting and the key agreement apart). */
  seconds: number;
  rounds: number;
}

/**
 * Classifies images (each C*H*W floats as the network takes them) with the service.
 * @param spec - the patch spec's text (the service publishes it); checked against the digest agreed
 */
export async function classifyWithService(config: ServiceConfig, specText: string | null, images: Float32Array, o: { onProgress?: (p: WebProgress) => void; WebSocket?: WebSocketClass; timeoutMs?: number } = {}): Promise<WebResult> {
  const make = WEB_MODELS[config.model];
  if (!make) throw new Error(`this page runs ${Object.keys(WEB_MODELS).join(', ')}; the service runs "${config.model}"`);
  const graph = make();
  const spec: PatchSpec | null = specText ? parseSpec(specText, graph.reluLayers().map((l) => ({ name: l.name, channels: l.channels, H: l.H, W: l.W }))) : null;
  if (specDigest(spec) !== config.spec) throw new Error(`the spec the service published does not have the digest it announced (${config.spec.slice(0, 12)}…)`);
  const mode = parseMode(config.mode), reveal = parseReveal(config.reveal);
  const [C, H, W] = graph.inputShape as [number, number, number];
  const per = C * H * W, count = images.length / per;
  if (!Number.isInteger(count) || count < 1) throw new Error(`expected whole ${C}x${H}x${W} images, got ${images.length} values`);
  const ledger = new Ledger();
  const link = { ledger, timeoutMs: o.timeoutMs ?? 120_000 };
  const ws = o.WebSocket ? { WebSocket: o.WebSocket } : {};
  const s = await connectWebSocket({ url: config.server, self: 'client', peer: 'server', session: 'new', link, ...ws });
  const links = new Map<PartyId, Link>([[SERVER, s.link]]);
  try {
    if (!s.session) throw new Error('the server did not open a session');
    links.set(HELPER, (await connectWebSocket({ url: config.helper, self: 'client', peer: 'helper', session: s.session, link, ...ws })).link);
  } catch (e) {
    for (const l of links.values()) l.close();
    throw e;
  }
  const p = await startParty(CLIENT, links, ledger, 30_000);
  // Timed like the Node client's report: from the agreement on (connecting and the key agreement apart).
  const t0 = performance.now();
  const report = () => ({ sent: ledger.totals().sent, received: ledger.totals().received });
  try {
    const mine: PublicParams = { model: config.model, spec: specDigest(spec), mode: config.mode, reveal: config.reveal, fracBits: config.fracBits, batch: config.batch, preprocess: config.preprocess };
    await agree(p, mine, count);
    const model = publicModel(graph, config.fracBits);
    const sm = await p.scope('model', (q) => setupSecure(q, model), 'setup');
    const labels: number[] = [];
    const batches = Math.ceil(count / config.batch);
    for (let b = 0; b < batches; b++) {
      const n = Math.min(config.batch, count - b * config.batch), shape = [n, C, H, W];
      const x = encodeFixed(images.subarray(b * config.batch * per, (b * config.batch + n) * per), config.fracBits, shape);
      const onNode = (node: { name: string }) => o.onProgress?.({ layer: { batch: b, node: node.name }, ...report() });
      const out = await secureBatch(p, sm, shape, reveal, { preprocess: config.preprocess, x, spec: spec?.layers, mode, onNode });
      labels.push(...Array.from(out!.labels));
      o.onProgress?.({ batches: { done: b + 1, total: batches }, ...report() });
    }
    await finish(p);
    const rounds = ledger.rows().filter((r) => r.label === 'batch' && r.phase === 'online').reduce((m, r) => Math.max(m, r.calls ? r.rounds / r.calls : 0), 0);
    return { labels, ...report(), seconds: (performance.now() - t0) / 1000, rounds };
  } catch (e) {
    p.abort(`client: ${(e as Error).message}`);
    throw e;
  } finally {
    p.close();
  }
}
