// Running parties as separate processes for benchmarks: spawn with the allocator tuned for large
// buffers (see the README: on this VM a fresh page costs ~15 us, and glibc's default returns big blocks
// to the OS after every free), and read the JSON lines each process prints.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const TUNED_ENV = {
  MALLOC_MMAP_THRESHOLD_: '1073741824',
  MALLOC_TRIM_THRESHOLD_: '4294967296',
  MALLOC_TOP_PAD_: '268435456',
};

export interface Proc {
  child: ChildProcess;
  /** The next JSON line the process prints (rejects if it ends first). */
  next(): Promise<Record<string, unknown>>;
  /** Exit code, once the process has ended and its output is read. */
  done: Promise<number>;
}

export function spawnTs(script: URL, args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@si/source', fileURLToPath(script), ...args], {
    env: { ...process.env, ...TUNED_ENV, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const waiters: { resolve(v: Record<string, unknown>): void; reject(e: Error): void }[] = [];
  let code: number | null = null;
  const what = `${fileURLToPath(script)} ${args.join(' ')}`;
  const flush = (): void => {
    while (waiters.length && lines.length) {
      const l = lines.shift()!;
      const w = waiters.shift()!;
      try {
        w.resolve(JSON.parse(l));
      } catch {
        w.reject(new Error(`${what} printed a line that is not JSON: ${l}`));
      }
    }
    if (code !== null) for (const w of waiters.splice(0)) w.reject(new Error(`${what} exited with code ${code} before printing its result`));
  };
  createInterface({ input: child.stdout! }).on('line', (l) => (lines.push(l), flush()));
  // 'close' comes after the output streams are drained, so every line is read before the end is reported.
  const done = new Promise<number>((resolve) => child.on('close', (c) => ((code = c ?? 1), flush(), resolve(code))));
  return { child, done, next: () => new Promise((resolve, reject) => (waiters.push({ resolve, reject }), flush())) };
}
