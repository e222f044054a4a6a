/**
 * The kernel pool in a browser. Inside a worker of a cross-origin-isolated page (where Atomics.wait may
 * block and the wasm memory can be shared), kernels run on nested Web Workers started from a blob; on a
 * page's main thread, or without isolation, on the calling thread only. The pool itself is _pool-core.ts.
 * @module
 */
import { memory, wasmModule } from './_wasm.ts';
import { configurePool, NAMES, WORKER_LOOP } from './_pool-core.ts';

const SRC = `self.onmessage = (e) => { self.onmessage = null; const { module, memory, ctl, names } = e.data;\n${WORKER_LOOP}\n};`;
const g = globalThis as unknown as { WorkerGlobalScope?: unknown; crossOriginIsolated?: boolean; navigator?: { hardwareConcurrency?: number } };
const canBlock = g.WorkerGlobalScope !== undefined && g.crossOriginIsolated === true;
let url: string | undefined;

configurePool({
  spawn: (ctl) => {
    url ??= URL.createObjectURL(new Blob([SRC], { type: 'text/javascript' }));
    new Worker(url).postMessage({ module: wasmModule, memory, ctl, names: NAMES });
  },
  // A nested worker may need this thread's event loop to start: never block waiting for it.
  readyWaitMs: 0,
  maxThreads: canBlock ? 16 : 1,
}, Math.min(g.navigator?.hardwareConcurrency ?? 1, 8));

export { getThreads, setThreads, runJobs, splitRange, workerJobCount, type Job } from './_pool-core.ts';
