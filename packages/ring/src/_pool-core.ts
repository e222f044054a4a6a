/**
 * The kernel pool's platform-neutral part: workers that run kernel calls on the shared wasm memory, so
 * one synchronous call can use every core. The caller splits a job into ranges; range 0 runs on the
 * calling thread, the others on workers that are ready. Synchronisation is Atomics.wait/notify on a small
 * control block per worker, so the API stays synchronous. _pool.ts (Node: worker_threads) and
 * _pool.browser.ts (Web Workers, inside a worker of the page) start the workers.
 * @module
 */
import { kernels, type Kernels } from './_wasm.ts';

type KernelName = keyof Kernels;
export const NAMES = Object.keys(kernels) as KernelName[];

// Control block (Int32 words): request counter, done counter, status, ready flag, function id, argc, args.
const SEQ = 0, DONE = 1, STATUS = 2, READY = 3, FN = 4, ARGC = 5, ARGS = 8, WORDS = 32;

/**
 * The worker's loop, as source: given `module`, `memory`, `ctl` (the control block's buffer) and `names`
 * in scope, instantiates the kernels on the shared memory and serves calls until it dies.
 */
export const WORKER_LOOP = `
const c = new Int32Array(ctl);
try {
  const ex = new WebAssembly.Instance(module, { env: { memory } }).exports;
  const fns = names.map((n) => ex[n]);
  Atomics.store(c, ${READY}, 1);
  Atomics.notify(c, ${READY});
  let seq = 0;
  for (;;) {
    Atomics.wait(c, ${SEQ}, seq);
    seq = Atomics.load(c, ${SEQ});
    try {
      const argc = c[${ARGC}], a = new Array(argc);
      for (let i = 0; i < argc; i++) a[i] = c[${ARGS} + i];
      fns[c[${FN}]](...a);
      c[${STATUS}] = 0;
    } catch (e) {
      c[${STATUS}] = 1;
    }
    Atomics.store(c, ${DONE}, seq);
    Atomics.notify(c, ${DONE});
  }
} finally {
  Atomics.store(c, ${READY}, 2);
  Atomics.notify(c, ${DONE});
}
`;

/** How a platform starts a worker on a control block, and how long the first call waits for it. */
export interface Platform {
  spawn(ctl: SharedArrayBuffer): void;
  /** Milliseconds to wait for a new worker to be ready (0: do not wait, run here until it is). */
  readyWaitMs: number;
  /** The largest number of threads (1 where workers or blocking waits are not available). */
  maxThreads: number;
}

let platform: Platform = { spawn: () => undefined, readyWaitMs: 0, maxThreads: 1 };
const slots: Int32Array[] = [];
let offloaded = 0;
let threads = 1;

export function configurePool(p: Platform, defaultThreads: number): void {
  platform = p;
  threads = Math.max(1, Math.min(defaultThreads, p.maxThreads));
}

/** Number of kernel jobs that ran on worker threads since the process started (for tests and benches). */
export function workerJobCount(): number {
  return offloaded;
}

/** Number of threads kernel calls may use (the calling thread included). */
export function getThreads(): number {
  return threads;
}

/**
 * Sets how many threads large kernels use (1 = only the calling thread). Default: SI_THREADS, else the
 * number of cores (at most 8). Parties sharing one machine should split the cores between them.
 */
export function setThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new RangeError(`"threads" expected an integer in [1, 64], got ${n}`);
  threads = Math.min(n, platform.maxThreads);
}

function ensureWorkers(count: number): void {
  while (slots.length < count) {
    const sab = new SharedArrayBuffer(WORDS * 4);
    const ctl = new Int32Array(sab);
    platform.spawn(sab);
    slots.push(ctl);
    // Workers start on their own threads; waiting here (where allowed) keeps the first call parallel.
    if (platform.readyWaitMs > 0) Atomics.wait(ctl, READY, 0, platform.readyWaitMs);
  }
}

/** One kernel call over a sub-range: [kernel name, ...i32 args]. */
export type Job = [KernelName, ...number[]];

/**
 * Runs jobs in parallel: jobs[0] on this thread, the rest on workers (or here, when workers are not
 * available). Returns when all are done. @throws {Error} when a worker kernel traps.
 */
export function runJobs(jobs: Job[]): void {
  if (jobs.length === 0) return;
  const helpers = Math.min(jobs.length - 1, threads - 1);
  if (helpers > 0) ensureWorkers(helpers);
  const sent: { c: Int32Array; target: number }[] = [];
  const here: Job[] = [jobs[0]!];
  for (let j = 1; j < jobs.length; j++) {
    const job = jobs[j]!;
    const c = j <= helpers ? slots[j - 1]! : undefined;
    if (c === undefined || Atomics.load(c, READY) !== 1) {
      here.push(job);
      continue;
    }
    c[FN] = NAMES.indexOf(job[0]);
    c[ARGC] = job.length - 1;
    for (let i = 1; i < job.length; i++) c[ARGS + i - 1] = job[i] as number;
    const target = Atomics.add(c, SEQ, 1) + 1;
    Atomics.notify(c, SEQ);
    sent.push({ c, target });
    offloaded++;
  }
  try {
    for (const [name, ...args] of here) (kernels[name] as (...a: number[]) => void)(...args);
  } finally {
    // Always wait for the workers: the caller rewinds the arena they are writing into.
    awaitWorkers(sent);
  }
}

function awaitWorkers(sent: { c: Int32Array; target: number }[]): void {
  let failed = false;
  for (const { c, target } of sent) {
    for (;;) {
      const d = Atomics.load(c, DONE);
      if (d === target) break;
      if (Atomics.load(c, READY) !== 1) throw new Error('@si/ring: a kernel worker thread exited during a call');
      Atomics.wait(c, DONE, d, 1000);
    }
    if (c[STATUS] !== 0) failed = true;
  }
  if (failed) throw new Error('@si/ring: a kernel trapped in a worker thread (out-of-bounds memory access)');
}

export { splitRange } from './_split.ts';
