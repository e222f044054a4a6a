/**
 * The client party in a dedicated worker of the page: the protocol's synchronous kernels may block here
 * (Atomics.wait), so they spread over nested workers when the page is cross-origin isolated, and the page
 * stays responsive. Messages: {id, config, specText, images} in; {id, progress} and {id, result | error} out.
 * @module
 */
import { getThreads, workerJobCount } from '@si/ring';
import { classifyWithService, type ServiceConfig } from './client.ts';

interface Request {
  id: number;
  config: ServiceConfig;
  specText: string | null;
  images: Float32Array;
}

const post = (m: unknown) => (self as unknown as { postMessage(m: unknown): void }).postMessage(m);

self.onmessage = async (e: MessageEvent<Request>) => {
  const { id, config, specText, images } = e.data;
  try {
    const r = await classifyWithService(config, specText, images, { onProgress: (progress) => post({ id, progress }) });
    post({ id, result: { ...r, threads: getThreads(), workerJobs: workerJobCount() } });
  } catch (err) {
    post({ id, error: (err as Error).message });
  }
};
