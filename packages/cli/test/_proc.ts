// A `si` command as a child process, for the tests that run real processes (serve, faults): its JSON
// events from stdout, its stderr lines, its exit code, and a way to wait for an event.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export type Event = Record<string, unknown>;

export interface Proc {
  proc: ChildProcess;
  events: Event[];
  stderr: string[];
  /** The exit code (128 when killed by a signal). */
  exited: Promise<number>;
  /** Resolves with the first event (seen or future) that matches. */
  when(pred: (e: Event) => boolean): Promise<Event>;
}

const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));

/** Runs `si ...args` (from source, with this process's loader flags). */
export function runCli(args: string[], env: Record<string, string> = {}): Proc {
  const proc = spawn(process.execPath, [...process.execArgv, cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const waiting: { pred: (e: Event) => boolean; resolve: (e: Event) => void }[] = [];
  const p: Proc = {
    proc, events: [], stderr: [],
    exited: new Promise((resolve) => proc.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)))),
    when: (pred) => {
      const seen = p.events.find(pred);
      return seen ? Promise.resolve(seen) : new Promise((resolve) => waiting.push({ pred, resolve }));
    },
  };
  createInterface({ input: proc.stderr! }).on('line', (l) => p.stderr.push(l));
  createInterface({ input: proc.stdout! }).on('line', (l) => {
    let e: Event;
    try {
      e = JSON.parse(l);
    } catch {
      return;
    }
    p.events.push(e);
    for (const w of waiting.filter((x) => x.pred(e))) (w.resolve(e), waiting.splice(waiting.indexOf(w), 1));
  });
  return p;
}
