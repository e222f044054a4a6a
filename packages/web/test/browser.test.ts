// The client in a real browser: Debian's chromium (puppeteer-core, headless) loads the page from `si serve
// --web` (server and helper as real processes, public clients), classifies the first 20 Fashion-MNIST test
// images through it, and must give the labels the Node client (si client) gives on the same images. Every
// WebSocket frame the page sends is recorded (Chrome DevTools Protocol): their payloads, parsed as si
// frames, must add up to exactly the bytes the client's ledger counts, and their sum over the server link
// to what the protocol declares for the client; nothing else leaves the page.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type CDPSession } from 'puppeteer-core';
import { FrameDecoder } from '@si/net';
// The CLI's helpers by path: @si/cli depends on this package (it serves the page), not the other way.
import { ASSETS, fashionFiles, graphOf, loadSpec, readIdx, runCli, writeDeploymentCerts } from '../../cli/src/index.ts';
import { classifyCost, parseMode, prepareSecureCost, publicModel, secureForwardCost, setupSecureCost, specDigest } from '@si/models';
import type { Cost } from '@si/sharing';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const certs = join(mkdtempSync(join(tmpdir(), 'si-web-')), 'certs');
writeDeploymentCerts(certs);
const MODEL = ['--model', 'fmnist-resnet', '--spec', `file:${ASSETS.spec6}`, '--batch', '4'];
const N = 20;
const fashion = fashionFiles('test');

const start = (args: string[]) => runCli(args);

/** Chromium trusts exactly these two certificates (by public-key hash), not the whole CA. */
const spki = (role: string) => createHash('sha256').update(new X509Certificate(readFileSync(join(certs, `${role}.pem`))).publicKey.export({ type: 'spki', format: 'der' })).digest('base64');

let browser: Browser;
const procs: ReturnType<typeof start>[] = [];

test.after(async () => {
  await browser?.close();
  for (const p of procs) p.proc.kill('SIGKILL');
});

test('the page classifies 20 test images like the Node client, and sends only its declared protocol bytes', async () => {
  const common = ['--tls', certs, '--public-clients', '--timeout', '30', ...MODEL];
  const helper = start(['serve', '--role', 'helper', '--listen', '127.0.0.1:0', '--web', '127.0.0.1:0', ...common]);
  procs.push(helper);
  const h = await helper.when((e) => e.event === 'listening');
  const server = start(['serve', '--role', 'server', '--listen', '127.0.0.1:0', '--helper', `127.0.0.1:${h.port}`, '--web', '127.0.0.1:0', '--web-helper', `wss://127.0.0.1:${h.webPort}/`, '--weights', `file:${ASSETS.weights6}`, ...common]);
  procs.push(server);
  const s = await server.when((e) => e.event === 'listening');

  // The Node client on the same images, against the same services.
  const node = start(['client', '--server', `127.0.0.1:${s.port}`, '--helper', `127.0.0.1:${h.port}`, '--ca', join(certs, 'ca.pem'), '--json', ...MODEL, '--images', fashion.images, '--count', String(N)]);
  assert.is(await node.exited, 0, node.stderr.join('\n'));
  const nodeReport = node.events.find((e) => e.event === 'report')!;

  browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', `--ignore-certificate-errors-spki-list=${spki('server')},${spki('helper')}`] });
  const page = await browser.newPage();
  // The client party runs in a worker of the page: watch the page's and every worker's network.
  const sockets = new Map<string, string>(); // requestId -> URL
  const sent = new Map<string, Uint8Array[]>();
  const watch = async (cdp: CDPSession) => {
    cdp.on('Network.webSocketCreated', (e) => sockets.set(e.requestId, e.url));
    cdp.on('Network.webSocketFrameSent', (e) => {
      const f = e.response;
      assert.is(f.opcode, 2, 'only binary frames leave the page');
      const list = sent.get(e.requestId) ?? [];
      list.push(new Uint8Array(Buffer.from(f.payloadData, 'base64')));
      sent.set(e.requestId, list);
    });
    await cdp.send('Network.enable');
  };
  const watching: Promise<void>[] = [watch(await page.createCDPSession())];
  page.on('workercreated', (w) => void watching.push(watch(w.client)));
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`https://127.0.0.1:${s.webPort}/`, { waitUntil: 'load' });
  await page.waitForFunction(() => (window as unknown as { si?: unknown }).si !== undefined, { timeout: 30_000 });
  assert.equal(errors, []);
  assert.ok(await page.evaluate(() => crossOriginIsolated), 'the page is cross-origin isolated');

  // The client's worker is announced asynchronously after the page script starts it: wait for it.
  for (let t = 0; watching.length < 2 && t < 200; t++) await new Promise((r) => setTimeout(r, 50));
  await Promise.all(watching);
  assert.ok(watching.length >= 2, 'the client worker started (within 10 s)');
  const pixels = Array.from(readIdx(fashion.images).data.subarray(0, N * 784));
  const web = await page.evaluate(async (px: number[]) => {
    const r = await (window as unknown as { si: { classify(p: number[]): Promise<{ labels: number[]; sent: number; received: number; seconds: number; threads: number; workerJobs: number }> } }).si.classify(px);
    return r;
  }, pixels);
  assert.equal(web.labels, nodeReport.labels, 'the browser and the Node client learn the same labels');
  // The client runs in a worker of the isolated page, its kernels spread over nested workers.
  if (availableParallelism() >= 2) assert.ok(web.threads >= 2 && web.workerJobs > 0, `threads ${web.threads}, jobs on workers ${web.workerJobs}`);
  assert.is(web.sent, (nodeReport.setup as { sent: number }).sent + (nodeReport.preprocess as { sent: number }).sent + (nodeReport.online as { sent: number }).sent, 'the same bytes as the Node client');

  // Every frame the page sent, parsed: hellos and control frames aside, the payloads are the ledger's bytes.
  let payload = 0, frames = 0;
  for (const [id, chunks] of sent) {
    assert.match(sockets.get(id)!, /^wss:\/\//);
    const dec = new FrameDecoder({ maxPayload: 2 ** 31 });
    for (const c of chunks) for (const f of dec.push(c)) {
      frames++;
      if (!['si-hello', 'si-bye', 'si-abort', 'si-alive'].includes(f.tag)) payload += f.payload.length;
    }
  }
  assert.ok(frames > 10, `${frames} frames seen`);
  assert.is(sockets.size, 2, 'two WebSockets: to the server and to the helper');
  assert.is(payload, web.sent, 'what left the page is exactly the protocol messages the ledger counted');
  // And that is what the protocols declare for the client (setup, then per batch of 4: preprocessing, the
  // network, the label-only argmax), plus the session's own messages: the public parameters (JSON) and
  // the X25519 key to each peer.
  const g = graphOf('fmnist-resnet'), m = publicModel(g, 12), spec = loadSpec(g, `file:${ASSETS.spec6}`)!;
  const fromClient = (c: Cost) => (c.bytes['0>1'] ?? 0) + (c.bytes['0>2'] ?? 0);
  const all = (costs: Map<string, Cost>) => [...costs.values()].reduce((n, c) => n + fromClient(c), 0);
  let declared = all(setupSecureCost(g));
  for (let b = 0; b < N / 4; b++) declared += all(await prepareSecureCost(m, 4)) + all(await secureForwardCost(m, 4, { spec: spec.layers, mode: parseMode('small16'), prepared: true })) + fromClient(classifyCost(m, 4, { kind: 'label' }));
  const params = JSON.stringify({ model: 'fmnist-resnet', spec: specDigest(spec), mode: 'small16', reveal: 'label', fracBits: 12, batch: 4, preprocess: true, images: N });
  assert.is(web.sent, declared + 2 * (32 + params.length), 'the page sent exactly the declared protocol bytes');

  // The page as a person uses it: the first test image on the drawing pad, the Classify button, the label.
  await page.evaluate((px: number[]) => {
    const pad = document.getElementById('pad') as HTMLCanvasElement, small = document.createElement('canvas');
    small.width = small.height = 28;
    const img = small.getContext('2d')!.createImageData(28, 28);
    px.forEach((v, i) => img.data.set([v, v, v, 255], 4 * i));
    small.getContext('2d')!.putImageData(img, 0, 0);
    const ctx = pad.getContext('2d')!;
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(small, 0, 0, pad.width, pad.height);
  }, pixels.slice(0, 784));
  await page.click('#go');
  await page.waitForFunction(() => /^\d/.test(document.getElementById('label')!.textContent ?? '') || /failed/.test(document.getElementById('status')!.textContent ?? ''), { timeout: 60_000 });
  const shown = await page.$eval('#label', (e) => e.textContent ?? '');
  assert.is(Number(shown.split(' ')[0]), (nodeReport.labels as number[])[0], `the page shows ${shown}`);
  assert.match(await page.$eval('#status', (e) => e.textContent ?? ''), /done in .* s · sent .* · received .* rounds/);
  await page.screenshot({ path: process.env.SI_WEB_SCREENSHOT ?? join(tmpdir(), 'si-web-page.png') });
});

test.run();
