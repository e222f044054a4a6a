/**
 * The page: draw on a 28x28 canvas or pick an image file; the client party runs here and the image
 * leaves only as shares. Exposes `window.si` (config, classify) for scripted use and the browser test.
 * @module
 */
import type { ServiceConfig, WebProgress, WebResult } from './client.ts';

const CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const kb = (n: number) => (n < 1e6 ? `${(n / 1e3).toFixed(1)} kB` : `${(n / 1e6).toFixed(2)} MB`);

const published = (await (await fetch('./config.json')).json()) as Omit<ServiceConfig, 'server'> & { server?: string };
const config: ServiceConfig = { ...published, server: published.server ?? `wss://${location.host}/` };
const specText = config.spec === 'relu' ? null : await (await fetch('./spec.txt')).text();

// The client party runs in a worker (worker.ts): kernels may block there and spread over cores.
const worker = new Worker('./worker.js', { type: 'module' });
const calls = new Map<number, { resolve(r: WebResult & { threads: number; workerJobs: number }): void; reject(e: Error): void; onProgress?: (p: WebProgress) => void }>();
let nextId = 0;
worker.onmessage = (e: MessageEvent<{ id: number; progress?: WebProgress; result?: WebResult & { threads: number; workerJobs: number }; error?: string }>) => {
  const call = calls.get(e.data.id);
  if (!call) return;
  if (e.data.progress) return call.onProgress?.(e.data.progress);
  calls.delete(e.data.id);
  if (e.data.result) call.resolve(e.data.result);
  else call.reject(new Error(e.data.error ?? 'the client worker failed'));
};

/** Classifies 28x28 grey images (bytes 0..255, as in the IDX files): the label of each. */
function classify(pixels: Uint8Array | number[], onProgress?: (p: WebProgress) => void): Promise<WebResult & { threads: number; workerJobs: number }> {
  const images = Float32Array.from(pixels, (v) => v / 255);
  const id = nextId++;
  return new Promise((resolve, reject) => {
    calls.set(id, { resolve, reject, ...(onProgress ? { onProgress } : {}) });
    worker.postMessage({ id, config, specText, images }, [images.buffer]);
  });
}

function canvasPixels(): Uint8Array {
  const small = document.createElement('canvas');
  small.width = small.height = 28;
  const ctx = small.getContext('2d')!;
  ctx.drawImage($<HTMLCanvasElement>('pad'), 0, 0, 28, 28);
  const rgba = ctx.getImageData(0, 0, 28, 28).data;
  return Uint8Array.from({ length: 784 }, (_, i) => Math.round((rgba[4 * i]! + rgba[4 * i + 1]! + rgba[4 * i + 2]!) / 3));
}

async function run(): Promise<void> {
  const status = $('status'), button = $<HTMLButtonElement>('go');
  button.disabled = true;
  $('label').textContent = '…';
  let layers = 0;
  try {
    const r = await classify(canvasPixels(), (p) => {
      if (p.layer) layers++;
      status.textContent = `layers done: ${layers} · sent ${kb(p.sent)} · received ${kb(p.received)}`;
    });
    $('label').textContent = `${r.labels[0]} ${CLASSES[r.labels[0]!] ?? ''}`;
    status.textContent = `done in ${r.seconds.toFixed(2)} s · sent ${kb(r.sent)} · received ${kb(r.received)} · ${r.rounds} rounds · ${r.threads} thread${r.threads === 1 ? '' : 's'}`;
  } catch (e) {
    status.textContent = `failed: ${(e as Error).message}`;
  } finally {
    button.disabled = false;
  }
}

function setupPad(): void {
  const pad = $<HTMLCanvasElement>('pad'), ctx = pad.getContext('2d')!;
  const clear = () => ((ctx.fillStyle = '#000'), ctx.fillRect(0, 0, pad.width, pad.height));
  clear();
  let down = false;
  const dot = (e: PointerEvent) => {
    if (!down) return;
    const r = pad.getBoundingClientRect();
    ctx.fillStyle = '#fff';
    ctx.beginPath();
    ctx.arc(((e.clientX - r.left) * pad.width) / r.width, ((e.clientY - r.top) * pad.height) / r.height, pad.width / 14, 0, 2 * Math.PI);
    ctx.fill();
  };
  pad.onpointerdown = (e) => ((down = true), dot(e));
  pad.onpointermove = dot;
  window.onpointerup = () => (down = false);
  $('clear').onclick = clear;
  $<HTMLInputElement>('file').onchange = async (e) => {
    const f = (e.target as HTMLInputElement).files?.[0];
    if (!f) return;
    const bmp = await createImageBitmap(f);
    ctx.drawImage(bmp, 0, 0, pad.width, pad.height);
  };
  $('go').onclick = () => void run();
}

/** The PRF's keystream throughput in this browser: the wasm AES (what the client uses) and WebCrypto's. */
function prfThroughput(bytes = 1 << 24): Promise<{ wasm_aes_mb_s: number; webcrypto_mb_s: number }> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    calls.set(id, { resolve: resolve as never, reject });
    worker.postMessage({ id, prfBytes: bytes });
  });
}

/** For scripts and the browser test: the service's parameters, classify(pixels), prfThroughput(). */
(window as unknown as { si: unknown }).si = { config, classify, canvasPixels, prfThroughput };
setupPad();
$('model').textContent = `${config.model}, ${config.spec === 'relu' ? 'all ReLUs' : 'patch spec ' + config.spec.slice(0, 12) + '…'}, ${config.mode}, reveal ${config.reveal}`;
$('status').textContent = `ready (${crossOriginIsolated ? 'cross-origin isolated' : 'not isolated'})`;
