/**
 * A `si` command as a child process (the tests and benchmarks that run real services): its JSON events
 * from stdout, its stderr lines, its exit code, and a way to wait for an event.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** One JSON line a command printed (`--json` events: {"event": "listening", ...}). */
export type Event = Record<string, unknown>;

/** A running `si` command. */
export interface Proc {
  proc: ChildProcess;
  events: Event[];
  stderr: string[];
  /** The exit code (128 when killed by a signal). */
  exited: Promise<number>;
  /** Resolves with the first event (seen or future) that matches. */
  when(pred: (e: Event) => boolean): Promise<Event>;
}

/** The CLI's entry file next to this one (cli.ts from source, cli.js when built). */
export function cliEntry(): string {
  const own = fileURLToPath(import.meta.url);
  return join(own, '..', own.endsWith('.ts') ? 'cli.ts' : 'cli.js');
}

/**
 * Runs `si ...args` as a child process with this process's loader flags (so sources run from source);
 * `inheritStderr` passes its stderr through instead of collecting it.
 * @example const helper = runCli(['serve', '--role', 'helper', ...]); await helper.when((e) => e.event === 'listening');
 */
export function runCli(args: string[], o: { env?: Record<string, string>; cwd?: string; inheritStderr?: boolean } = {}): Proc {
  const proc = spawn(process.execPath, [...process.execArgv, cliEntry(), ...args], {
    stdio: ['ignore', 'pipe', o.inheritStderr ? 'inherit' : 'pipe'], env: { ...process.env, ...o.env }, ...(o.cwd ? { cwd: o.cwd } : {}),
  });
  const waiting: { pred: (e: Event) => boolean; resolve: (e: Event) => void }[] = [];
  const p: Proc = {
    proc, events: [], stderr: [],
    exited: new Promise((resolve) => proc.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)))),
    when: (pred) => {
      const seen = p.events.find(pred);
      return seen ? Promise.resolve(seen) : new Promise((resolve) => waiting.push({ pred, resolve }));
    },
  };
  if (proc.stderr) createInterface({ input: proc.stderr }).on('line', (l) => p.stderr.push(l));
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
