/**
 * All three parties on one machine, each in its own process, over TLS 1.3 with mutual authentication
 * under a throwaway CA (created in a private temporary directory, deleted at the end). The helper
 * starts first, then the server, then the client; each listens on a free port and says which. Their
 * reports are merged: bytes add up over the parties, rounds and times are the slowest party's.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createCA, issueCert } from '@si/net';
import type { Role } from '@si/sharing';
import type { ImageResult, PartyReport, RunSummary } from './party.ts';
import { loadInput, type InputSource } from './input.ts';
import { DataError } from './data.ts';
import { graphOf, loadManifest } from './models.ts';
import { cliEntry } from './child.ts';

/** glibc settings for processes that allocate large typed arrays (see benchmarks/README). */
export const ALLOCATOR_ENV = {
  MALLOC_MMAP_THRESHOLD_: '1073741824',
  MALLOC_TRIM_THRESHOLD_: '4294967296',
  MALLOC_TOP_PAD_: '268435456',
};

export interface LocalOptions {
  model: string;
  weights: string;
  spec?: string;
  mode?: string;
  /** What the client learns: label (default), topk:K or logits. */
  reveal?: string;
  fracBits?: number;
  batch?: number;
  input: InputSource;
  /** The client's model manifest (default: the shipped one). */
  manifest?: string;
  /** Segmentation: where the client writes label maps and overlays. */
  outPng?: string;
  timeoutSeconds?: number;
  /** Per-batch preprocessing ahead of the input (default true). */
  preprocess?: boolean;
  /** Worker threads per party (SI_THREADS); default: the ring's default. */
  threads?: number;
  /** Every event a party prints (listening, connected, setup, batch). */
  onEvent?(role: Role, event: Record<string, unknown>): void;
  /**
   * Where `from` dials `to`, given the port `to` listens on (default: that port). Benchmarks put shaped
   * relays between the parties this way (benchmarks/_shaper.ts).
   */
  route?(from: Role, to: 'server' | 'helper', port: number): Promise<number>;
}

export interface LayerTotals {
  name: string;
  op: string;
  /** Bytes over all parties and batches. */
  bytes: number;
  /** Rounds per batch (the slowest party's). */
  rounds: number;
  /** Seconds over all batches (the slowest party's). */
  seconds: number;
}

export interface SessionReport extends RunSummary {
  setup: { bytes: number; rounds: number; seconds: number };
  preprocess: { bytes: number; rounds: number; seconds: number };
  online: { bytes: number; rounds: number; seconds: number };
  layers: LayerTotals[];
  /** Per batch: preprocessing (the slowest party) and online (the client) seconds. */
  batchSeconds: { preprocess: number[]; online: number[] };
  /** What the client learned (see PartyReport): top-1 per image (or per pixel), and topk or logits if revealed. */
  labels: number[];
  labelShape: number[];
  /** Segmentation: the resolution of the secure argmax, when the label map was enlarged from it (PartyReport.labelsFrom). */
  labelsFrom?: [number, number];
  topk?: number[][];
  logits?: number[][];
  /** The true labels, when the client had them. */
  truth?: number[];
  /** Per image: its name, label and class name (see PartyReport.results). */
  results: ImageResult[];
  /** Inputs the client could not use, with why. */
  skipped?: { image: string; error: string }[];
  /** Per party: bytes sent per phase, online bytes received in all and per layer, memory. */
  parties: Record<Role, { setupSent: number; preprocessSent: number; onlineSent: number; onlineReceived: number; layersReceived: Record<string, number>; memory: PartyReport['memory'] }>;
}

const pick = <T extends object, K extends keyof T>(o: T, keys: readonly K[]): Partial<Pick<T, K>> =>
  Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]])) as Partial<Pick<T, K>>;

/** Merges the three parties' reports. */
export function mergeReports(rs: readonly PartyReport[]): SessionReport {
  const client = rs.find((r) => r.role === 'client');
  if (!client || rs.length !== 3) throw new Error('need the reports of all three parties');
  const layers = client.layers.map((l) => ({ name: l.name, op: l.op, bytes: 0, rounds: 0, seconds: 0 }));
  for (const r of rs) {
    r.layers.forEach((l, i) => {
      const L = layers[i]!;
      if (L.name !== l.name) throw new Error(`the ${r.role}'s layer ${i} is "${l.name}", the client's "${L.name}"`);
      L.bytes += l.sent;
      L.rounds = Math.max(L.rounds, l.rounds);
      L.seconds = Math.max(L.seconds, l.seconds);
    });
  }
  const phase = (k: 'setup' | 'preprocess' | 'online') => ({
    bytes: rs.reduce((s, r) => s + r[k].sent, 0),
    rounds: Math.max(...rs.map((r) => r[k].rounds)),
    // Setup and preprocessing end when the slowest party is done; the online phase is timed by the
    // client, from sharing its input to its last prediction (the others start waiting for it earlier).
    seconds: k === 'online' ? client.online.seconds : Math.max(...rs.map((r) => r[k].seconds)),
  });
  const parties = Object.fromEntries(rs.map((r) => [r.role, {
    setupSent: r.setup.sent, preprocessSent: r.preprocess.sent, onlineSent: r.online.sent, onlineReceived: r.online.received,
    layersReceived: Object.fromEntries(r.layers.map((l) => [l.name, l.received])), memory: r.memory,
  }])) as SessionReport['parties'];
  const opened = { labels: client.labels!, labelShape: client.labelShape!, results: client.results!, ...pick(client, ['topk', 'logits', 'truth', 'skipped', 'labelsFrom']) };
  return {
    model: client.model, mode: client.mode, spec: client.spec, reveal: client.reveal, fracBits: client.fracBits, images: client.images, batch: client.batch,
    batches: client.batches, drelus: client.drelus, relus: client.relus, setup: phase('setup'), preprocess: phase('preprocess'), online: phase('online'), layers,
    batchSeconds: { preprocess: client.batchSeconds.preprocess.map((_, i) => Math.max(...rs.map((r) => r.batchSeconds.preprocess[i]!))), online: client.batchSeconds.online },
    ...opened, parties,
  };
}

/** The arguments of `si party` for a configuration. */
export function partyArgs(o: LocalOptions, role: Role): string[] {
  const a = ['--model', o.model, '--mode', o.mode ?? 'small16', '--reveal', o.reveal ?? 'label', '--frac-bits', String(o.fracBits ?? 12), '--batch', String(o.batch ?? 8)];
  if (o.spec) a.push('--spec', o.spec);
  // The parties start one after another, each loading what it holds first (minutes for a large network):
  // the first to listen waits for the others as long as for a message.
  if (o.timeoutSeconds) a.push('--timeout', String(o.timeoutSeconds), '--connect-timeout', String(Math.max(60, o.timeoutSeconds)));
  if (o.preprocess === false) a.push('--no-preprocess');
  if (role === 'server') a.push('--weights', o.weights);
  if (role === 'client') {
    const i = o.input;
    a.push('--trace'); // an event per layer: progress within a long batch
    if (o.manifest) a.push('--manifest', o.manifest);
    if (o.outPng) a.push('--out-png', o.outPng);
    if (i.kind === 'random') a.push('--random', String(i.count), ...(i.seed ? ['--seed', i.seed] : []));
    else if (i.kind === 'files') for (const p of i.paths) a.push('--image', p);
    else if (i.kind === 'idx') {
      a.push('--images', i.images);
      if (i.labels) a.push('--labels', i.labels);
      if (i.start) a.push('--start', String(i.start));
      if (i.count !== undefined) a.push('--count', String(i.count));
    }
  }
  return a;
}

interface Child {
  role: Role;
  proc: ChildProcess;
  /** The next event of a kind (rejects if the process ends or fails first). */
  until(kind: string): Promise<Record<string, unknown>>;
  exited: Promise<number>;
  error: string | undefined;
  /** Order of failure among the parties (1: the first to fail); stopped: ended by runLocal after another failed. */
  failedAt?: number;
  stopped?: boolean;
}

function start(role: Role, args: string[], o: LocalOptions, onFail: (c: Child) => void): Child {
  const proc = spawn(process.execPath, [...process.execArgv, cliEntry(), 'party', '--json', '--role', role, ...args], {
    env: { ...process.env, ...ALLOCATOR_ENV, ...(o.threads ? { SI_THREADS: String(o.threads) } : {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const waiting = new Map<string, { resolve(e: Record<string, unknown>): void; reject(e: Error): void }>();
  const seen = new Map<string, Record<string, unknown>>();
  const stderr: string[] = [];
  const child: Child = {
    role, proc, error: undefined,
    until: (kind) => {
      const e = seen.get(kind);
      if (e) return Promise.resolve(e);
      if (child.error !== undefined) return Promise.reject(new Error(`${role}: ${child.error}`));
      return new Promise((resolve, reject) => waiting.set(kind, { resolve, reject }));
    },
    exited: new Promise((resolve) => proc.on('close', (code) => {
      if (child.error === undefined && code !== 0) fail(child.stopped ? 'stopped after another party failed' : `exited with code ${code}${stderr.length ? `: ${stderr.join('\n').slice(-2000)}` : ''}`);
      for (const [k, w] of waiting) w.reject(new Error(`${role}: ${child.error ?? `ended before "${k}"`}`));
      waiting.clear();
      resolve(code ?? 1);
    })),
  };
  const fail = (message: string) => {
    if (child.error !== undefined) return;
    child.error = message;
    onFail(child);
  };
  createInterface({ input: proc.stderr! }).on('line', (l) => stderr.push(l));
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    let e: Record<string, unknown>;
    try {
      e = JSON.parse(line);
    } catch {
      stderr.push(line);
      return;
    }
    const kind = String(e.event);
    if (kind === 'error') fail(String(e.message));
    else o.onEvent?.(role, e);
    seen.set(kind, e);
    waiting.get(kind)?.resolve(e);
    waiting.delete(kind);
  });
  return child;
}

/**
 * Runs a session with the three parties as local processes; resolves with the merged report. The
 * client's input is read and checked here first, so a bad input fails at once; when a party fails, the
 * others are stopped and its error comes first.
 */
export async function runLocal(o: LocalOptions): Promise<SessionReport> {
  if (o.input.kind === 'pixels' || o.input.kind === 'tensor') throw new DataError(`"${o.input.kind}" input lives in this process: run the client with runParty (runLocal starts it as its own process)`);
  const graph = graphOf(o.model);
  loadInput(graph, o.input, loadManifest(o.model, graph, o.manifest));
  const dir = mkdtempSync(join(tmpdir(), 'si-certs-'));
  const children: Child[] = [];
  let failures = 0;
  const onFail = (c: Child) => {
    c.failedAt = ++failures;
    if (failures > 1) return;
    for (const other of children) {
      if (other !== c && other.proc.exitCode === null && other.error === undefined) {
        other.stopped = true;
        other.proc.kill('SIGTERM');
      }
    }
  };
  try {
    const ca = createCA({ name: 'si throwaway CA', days: 1 });
    writeFileSync(join(dir, 'ca.pem'), ca.cert);
    for (const role of ['client', 'server', 'helper'] as const) {
      const c = issueCert(ca, { role, hosts: ['localhost', '127.0.0.1'], days: 1 });
      writeFileSync(join(dir, `${role}.pem`), c.cert);
      writeFileSync(join(dir, `${role}.key`), c.key, { mode: 0o600 });
    }
    const tls = ['--tls', dir];
    // When a party fails, the error is the first failure's (the others were stopped because of it).
    const firstFailure = async (e: unknown): Promise<never> => {
      await Promise.all(children.map((c) => c.exited));
      // The parties stopped because another failed say only that: name the ones that failed on their own.
      const all = children.filter((c) => c.error !== undefined).sort((a, b) => a.failedAt! - b.failedAt!);
      const failed = all.some((c) => !c.stopped) ? all.filter((c) => !c.stopped) : all;
      if (!failed.length) throw e;
      throw new Error(`secure inference failed: ${failed.map((c) => `${c.role}: ${c.error}`).join('; ')}`);
    };
    const helper = start('helper', [...tls, '--listen', '127.0.0.1:0', ...partyArgs(o, 'helper')], o, onFail);
    children.push(helper);
    const hp = (await helper.until('listening').catch(firstFailure)).port as number;
    const via = (from: Role, to: 'server' | 'helper', port: number) => (o.route ? o.route(from, to, port) : Promise.resolve(port));
    const server = start('server', [...tls, '--listen', '127.0.0.1:0', '--helper', `127.0.0.1:${await via('server', 'helper', hp)}`, ...partyArgs(o, 'server')], o, onFail);
    children.push(server);
    const sp = (await server.until('listening').catch(firstFailure)).port as number;
    const client = start('client', [...tls, '--server', `127.0.0.1:${await via('client', 'server', sp)}`, '--helper', `127.0.0.1:${await via('client', 'helper', hp)}`, ...partyArgs(o, 'client')], o, onFail);
    children.push(client);
    const reports = await Promise.allSettled(children.map((c) => c.until('report')));
    await Promise.all(children.map((c) => c.exited));
    if (children.some((c) => c.error !== undefined)) await firstFailure(undefined);
    return mergeReports(reports.map((r) => (r as PromiseFulfilledResult<Record<string, unknown>>).value as unknown as PartyReport));
  } finally {
    // A party that failed makes the others abort; anything still running after that is stopped.
    for (const c of children) if (c.proc.exitCode === null) c.proc.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}
