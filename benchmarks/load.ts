// pnpm load [-- --quick]
// A service under load: one `si serve` server and helper (real processes, mutual TLS, metrics on), and
// 200 client sessions (24 with --quick), 8 at a time, each classifying one Fashion-MNIST test image with the
// shipped 6% network at batch 1. Every label is compared with the fixed-point twin's; the services' resident
// memory is read from their metrics endpoints after every session, and the last 50 sessions' mean is
// compared with the first 50's (a leak per session would show there).
// Ends with {"load":"summary","sessions":…,"failed":…,"labels_equal_twin":…,"p50_ms":…,"p95_ms":…,
// "rss_server_first_mb":…,"rss_server_last_mb":…,"rss_helper_first_mb":…,"rss_helper_last_mb":…}.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { encodeFixed } from '@si/ring';
import { compileFixed, twinClassify } from '@si/models';
import { ASSETS, fashionFiles, graphOf, loadInput, loadManifest, loadSpec, loadWeights, readCredentials, runParty, writeDeploymentCerts } from '@si/cli';
import { emit, flags, round } from './_harness.ts';

const { quick } = flags();
const SESSIONS = quick ? 24 : 200, CONCURRENT = 8, WINDOW = Math.min(50, SESSIONS / 2);
const MODEL = 'fmnist-resnet', SPEC = `file:${ASSETS.spec6}`, WEIGHTS = `file:${ASSETS.weights6}`;
const dir = mkdtempSync(join(tmpdir(), 'si-load-'));
const certs = join(dir, 'certs');
writeDeploymentCerts(certs);
const cli = fileURLToPath(new URL('../packages/cli/src/cli.ts', import.meta.url));

/** A service process; resolves with its ports once it listens. */
function serve(args: string[]): Promise<{ proc: ChildProcess; port: number; metricsPort: number; failures: string[] }> {
  const proc = spawn(process.execPath, [...process.execArgv, cli, 'serve', '--tls', certs, '--model', MODEL, '--spec', SPEC, '--batch', '1', '--max-sessions', String(CONCURRENT), '--metrics', '127.0.0.1:0', '--listen', '127.0.0.1:0', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const failures: string[] = [];
  return new Promise((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`si serve ${args.join(' ')} exited with ${code}`)));
    createInterface({ input: proc.stdout! }).on('line', (l) => {
      const e = JSON.parse(l) as Record<string, unknown>;
      if (e.event === 'listening') resolve({ proc, port: e.port as number, metricsPort: e.metricsPort as number, failures });
      if (e.event === 'session-failed' || e.event === 'refused') failures.push(String(e.error ?? e.message));
    });
  });
}

async function rssMb(metricsPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  return Number(/^process_resident_memory_bytes\{[^}]*\} (\d+)$/m.exec(text)![1]) / 2 ** 20;
}

const helper = await serve(['--role', 'helper']);
const server = await serve(['--role', 'server', '--helper', `127.0.0.1:${helper.port}`, '--weights', WEIGHTS]);
const fashion = fashionFiles('test');

// The twin's labels for the same images (the fixed-point network in the clear).
const graph = graphOf(MODEL);
const model = compileFixed(graph, loadWeights(graph, WEIGHTS), 12);
const spec = loadSpec(graph, SPEC);
// The images exactly as the client prepares them (its manifest's preprocessing).
const input = loadInput(graph, { kind: 'idx', images: fashion.images, start: 0, count: SESSIONS }, loadManifest(MODEL, graph));
const x = encodeFixed(input.x, 12, [SESSIONS, 1, 28, 28]);
const twin = Array.from((await twinClassify(model, x, { kind: 'label' }, { spec: spec?.layers })).labels);

const tls = readCredentials(certs, 'client');
const latencies: number[] = [], rss: { server: number; helper: number }[] = [];
let next = 0, failed = 0, equal = 0;
const t0 = performance.now();
async function worker(): Promise<void> {
  for (let i = next++; i < SESSIONS; i = next++) {
    const t = performance.now();
    try {
      const r = await runParty({
        role: 'client', service: true, tls, deployment: { server: { host: '127.0.0.1', port: server.port }, helper: { host: '127.0.0.1', port: helper.port } },
        model: MODEL, spec: SPEC, batch: 1, input: { kind: 'idx', images: fashion.images, labels: fashion.labels, start: i, count: 1 }, timeoutSeconds: 60,
      });
      latencies.push(performance.now() - t);
      if (r.labels![0] === twin[i]) equal++;
    } catch (e) {
      failed++;
      console.error(`session ${i}: ${(e as Error).message}`);
    }
    rss.push({ server: await rssMb(server.metricsPort), helper: await rssMb(helper.metricsPort) });
    if ((i + 1) % 25 === 0) emit({ load: 'progress', sessions: i + 1, failed, seconds: round((performance.now() - t0) / 1000, 1) });
  }
}
await Promise.all(Array.from({ length: CONCURRENT }, worker));
server.proc.kill('SIGTERM');
helper.proc.kill('SIGTERM');
rmSync(dir, { recursive: true, force: true });

const sorted = [...latencies].sort((a, b) => a - b);
const pct = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN);
const mean = (v: number[]) => round(v.reduce((a, b) => a + b, 0) / v.length, 1);
const first = rss.slice(0, WINDOW), last = rss.slice(-WINDOW);
emit({
  load: 'summary', sessions: SESSIONS, concurrent: CONCURRENT, failed, labels_equal_twin: equal === SESSIONS, labels_equal: equal,
  seconds: round((performance.now() - t0) / 1000, 1), p50_ms: pct(0.5), p95_ms: pct(0.95),
  rss_server_first_mb: mean(first.map((r) => r.server)), rss_server_last_mb: mean(last.map((r) => r.server)),
  rss_helper_first_mb: mean(first.map((r) => r.helper)), rss_helper_last_mb: mean(last.map((r) => r.helper)),
  service_failures: server.failures.length + helper.failures.length,
});
process.exit(failed === 0 && equal === SESSIONS ? 0 : 1);
