/**
 * The client party in a dedicated worker of the page: the protocol's synchronous kernels may block here
 * (Atomics.wait), so they spread over nested workers when the page is cross-origin isolated, and the page
 * stays responsive. Messages: {id, config, specText, images} in; {id, progress} and {id, result | error} out.
 * @module
 */
import { getThreads, workerJobCount } from '@si/ring';
import { PrfStream } from '@si/sharing';
import { classifyWithService, type ServiceConfig } from './client.ts';

interface Request {
  id: number;
  config: ServiceConfig;
  specText: string | null;
  images: Float32Array;
}

const post = (m: unknown) => (self as unknown as { postMessage(m: unknown): void }).postMessage(m);

/**
 * Keystream throughput (MB/s) of the PRF as the client runs it (AES-128-CTR on the wasm kernels, synchronous) and of
 * WebCrypto's AES-CTR (asynchronous, so the protocol's synchronous draws cannot use it), on `bytes`.
 */
async function prfThroughput(bytes: number): Promise<{ wasm_aes_mb_s: number; webcrypto_mb_s: number }> {
  const key = crypto.getRandomValues(new Uint8Array(16));
  let t = performance.now();
  new PrfStream(key, 'bench').bytes('bench', bytes);
  const wasm = bytes / 1e6 / ((performance.now() - t) / 1000);
  const k = await crypto.subtle.importKey('raw', key, 'AES-CTR', false, ['encrypt']);
  t = performance.now();
  await crypto.subtle.encrypt({ name: 'AES-CTR', counter: new Uint8Array(16), length: 64 }, k, new Uint8Array(bytes));
  const web = bytes / 1e6 / ((performance.now() - t) / 1000);
  return { wasm_aes_mb_s: Math.round(wasm), webcrypto_mb_s: Math.round(web) };
}

self.onmessage = async (e: MessageEvent<Request & { prfBytes?: number }>) => {
  const { id, config, specText, images, prfBytes } = e.data;
  if (prfBytes !== undefined) return post({ id, result: await prfThroughput(prfBytes) });
  try {
    const r = await classifyWithService(config, specText, images, { onProgress: (progress) => post({ id, progress }) });
    post({ id, result: { ...r, threads: getThreads(), workerJobs: workerJobCount() } });
  } catch (err) {
    post({ id, error: (err as Error).message });
  }
};
