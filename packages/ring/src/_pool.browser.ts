/**
 * The kernel pool in a browser: every job runs on the calling thread (the same API as _pool.ts, one
 * thread). Kernels on Web Workers would need Atomics.wait, which a page's main thread may not call.
 * @module
 */
import { kernels, type Kernels } from './_wasm.ts';

type KernelName = keyof Kernels;
export type Job = [KernelName, ...number[]];

export function workerJobCount(): number {
  return 0;
}

export function getThreads(): number {
  return 1;
}

export function setThreads(n: number): void {
  if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`threads must be a positive integer, got ${n}`);
}

export function runJobs(jobs: Job[]): void {
  for (const [name, ...args] of jobs) (kernels[name] as (...a: number[]) => void)(...args);
}

export { splitRange } from './_split.ts';
