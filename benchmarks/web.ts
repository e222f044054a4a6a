// pnpm bench:web [-- --quick]
// The browser client against the Node client, same run, same services: `si serve` server and helper (real
// processes, public clients, --web), 40 Fashion-MNIST test images (8 with --quick) at batch 8, classified
// once by `si client` (Node) and once by the page in Debian's chromium (headless, puppeteer-core); a warm-up
// session of 8 images each first. Prints seconds per image of each, their ratio, the page's bundle size,
// and whether the labels agree; and the PRF's keystream throughput in the page, the wasm AES (used) against
// WebCrypto's AES-CTR (asynchronous only).
// Ends with {"bench":"web","labels_equal_node":…,"browser_s_per_image":…,"node_s_per_image":…,"ratio":…,"bundle_kb":…}.
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';
import { ASSETS, fashionFiles, readIdx, runCli, writeDeploymentCerts } from '@si/cli';
import { emit, flags, round } from './_harness.ts';

const { quick } = flags();
const N = quick ? 8 : 40;
const certs = join(mkdtempSync(join(tmpdir(), 'si-bench-web-')), 'certs');
writeDeploymentCerts(certs);
const MODEL = ['--model', 'fmnist-resnet', '--spec', `file:${ASSETS.spec6}`, '--batch', '8'];
const fashion = fashionFiles('test');

const start = (args: string[]) => runCli(args, { inheritStderr: true });
const spki = (role: string) => createHash('sha256').update(new X509Certificate(readFileSync(join(certs, `${role}.pem`))).publicKey.export({ type: 'spki', format: 'der' })).digest('base64');

const common = ['--tls', certs, '--public-clients', '--timeout', '60', ...MODEL];
const helper = start(['serve', '--role', 'helper', '--listen', '127.0.0.1:0', '--web', '127.0.0.1:0', ...common]);
const h = await helper.when((e) => e.event === 'listening');
const server = start(['serve', '--role', 'server', '--listen', '127.0.0.1:0', '--helper', `127.0.0.1:${h.port}`, '--web', '127.0.0.1:0', '--web-helper', `wss://127.0.0.1:${h.webPort}/`, '--weights', `file:${ASSETS.weights6}`, ...common]);
const s = await server.when((e) => e.event === 'listening');

async function nodeRun(count: number): Promise<{ labels: number[]; online: number }> {
  const c = start(['client', '--server', `127.0.0.1:${s.port}`, '--helper', `127.0.0.1:${h.port}`, '--ca', join(certs, 'ca.pem'), '--json', ...MODEL, '--images', fashion.images, '--count', String(count)]);
  if ((await c.exited) !== 0) throw new Error('the Node client failed');
  const r = c.events.find((e) => e.event === 'report')!;
  const sec = (k: string) => (r[k] as { seconds: number }).seconds;
  return { labels: r.labels as number[], online: sec('setup') + sec('preprocess') + sec('online') };
}

const browser = await puppeteer.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox', `--ignore-certificate-errors-spki-list=${spki('server')},${spki('helper')}`] });
const page = await browser.newPage();
await page.goto(`https://127.0.0.1:${s.webPort}/`, { waitUntil: 'load' });
await page.waitForFunction(() => (window as unknown as { si?: unknown }).si !== undefined, { timeout: 30_000 });
const pixels = Array.from(readIdx(fashion.images).data.subarray(0, N * 784));
const webRun = (count: number) => page.evaluate(async (px: number[]) => (window as unknown as { si: { classify(p: number[]): Promise<{ labels: number[]; seconds: number }> } }).si.classify(px), pixels.slice(0, count * 784));

// Warm-up (JIT, caches), then the measured runs; both clients time from connecting to the last label.
await nodeRun(8);
await webRun(8);
const t0 = performance.now();
const node = await nodeRun(N);
const nodeWall = (performance.now() - t0) / 1000;
const web = await webRun(N);
const prf = await page.evaluate(() => (window as unknown as { si: { prfThroughput(): Promise<{ wasm_aes_mb_s: number; webcrypto_mb_s: number }> } }).si.prfThroughput());
await browser.close();
server.proc.kill('SIGTERM');
helper.proc.kill('SIGTERM');

const pageDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'packages', 'web', 'dist', 'page');
const bundle = ['app.js', 'worker.js'].reduce((n, f) => n + statSync(join(pageDir, f)).size, 0);
const nodeS = node.online / N, webS = web.seconds / N;
emit({ bench: 'web', part: 'node', images: N, s_per_image: round(nodeS, 4), process_wall_s: round(nodeWall, 2) });
emit({ bench: 'web', part: 'browser', images: N, s_per_image: round(webS, 4) });
emit({ bench: 'web', part: 'prf', keystream_bytes: 1 << 24, ...prf });
emit({ bench: 'web', labels_equal_node: JSON.stringify(web.labels) === JSON.stringify(node.labels), browser_s_per_image: round(webS, 4), node_s_per_image: round(nodeS, 4), ratio: round(webS / nodeS, 2), bundle_kb: Math.round(bundle / 1024) });
