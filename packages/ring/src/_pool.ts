/**
 * The kernel pool on Node: worker_threads on the shared wasm memory (Node allows Atomics.wait on the
 * main thread). The pool itself is _pool-core.ts.
 * @module
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { memory, wasmModule } from './_wasm.ts';
import { configurePool, NAMES, WORKER_LOOP } from './_pool-core.ts';

const SRC = `const { workerData } = require('node:worker_threads');\nconst { module, memory, ctl, names } = workerData;\n${WORKER_LOOP}`;

function defaultThreads(): number {
  const env = process.env.SI_THREADS;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1 || n > 64) throw new RangeError(`SI_THREADS expected an integer in [1, 64], got ${env}`);
    return n;
  }
  return Math.max(1, Math.min(availableParallelism(), 8));
}

configurePool({
  spawn: (ctl) => new Worker(SRC, { eval: true, workerData: { module: wasmModule, memory, ctl, names: NAMES } }).unref(),
  readyWaitMs: 5000,
  maxThreads: 64,
}, defaultThreads());

export { getThreads, setThreads, runJobs, splitRange, workerJobCount, type Job } from './_pool-core.ts';
