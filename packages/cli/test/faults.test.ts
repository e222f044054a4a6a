// Fault injection: three real `si party` processes over TLS; one party is killed or stalled, or one link is
// cut, at a point of the run (weight setup, the first layer, a middle layer, the output layer). The other
// parties must exit non-zero within the timeout, with an error that names the failed peer and where the run
// was, without presenting a result; no process may be left behind.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { writeDeploymentCerts } from '../src/index.ts';

type Role = 'client' | 'server' | 'helper';
type Point = 'setup' | 'first layer' | 'middle' | 'last layers';
type Event = Record<string, unknown>;
const ROLES: Role[] = ['client', 'server', 'helper'];
const TIMEOUT = 3; // seconds a party waits for a message (si party --timeout)

const certs = join(mkdtempSync(join(tmpdir(), 'si-faults-')), 'certs');
writeDeploymentCerts(certs);
const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const summary: { fault: string; survived: boolean }[] = [];

interface Proc {
  role: Role;
  proc: ChildProcess;
  events: Event[];
  stderr: string[];
  exited: Promise<number>;
  /** Resolves with the first event (seen or future) that matches. */
  when(pred: (e: Event) => boolean): Promise<Event>;
}

function party(role: Role, args: string[]): Proc {
  const proc = spawn(process.execPath, [...process.execArgv, cli, 'party', '--role', role, '--tls', certs, '--json', '--trace', '--timeout', String(TIMEOUT), '--connect-timeout', '10',
    '--model', 'fmnist-resnet', '--spec', 'knapsack:0.1:ci', '--batch', '2', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const waiting: { pred: (e: Event) => boolean; resolve: (e: Event) => void }[] = [];
  const p: Proc = {
    role, proc, events: [], stderr: [],
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

/** A TCP relay to a port; cut() drops every connection through it. */
async function relay(port: number): Promise<{ port: number; cut(): void; close(): void }> {
  const socks: net.Socket[] = [];
  const srv = net.createServer((a) => {
    const b = net.connect(port, '127.0.0.1');
    socks.push(a, b);
    a.pipe(b).on('error', () => {});
    b.pipe(a).on('error', () => {});
    a.on('error', () => b.destroy());
    b.on('error', () => a.destroy());
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    cut: () => socks.forEach((s) => s.resetAndDestroy()),
    close: () => (socks.forEach((s) => s.destroy()), srv.close()),
  };
}

const pointReached: Record<Point, (e: Event) => boolean> = {
  setup: (e) => e.event === 'connected',
  'first layer': (e) => e.event === 'layer' && e.batch === 0 && e.node === 'stem.conv',
  middle: (e) => e.event === 'layer' && e.batch === 0 && String(e.node).startsWith('layer2.1'),
  // The last stage of the last batch (a few protocol rounds before the output is revealed).
  'last layers': (e) => e.event === 'layer' && e.batch === 1 && e.node === 'layer3.1.conv1.conv',
};

type Fault = { kind: 'kill' | 'stall'; victim: Role; at: Point } | { kind: 'cut'; link: [Role, Role]; at: Point };

/** Runs the three parties with one fault; returns each party's exit code, error and whether it reported. */
async function runWithFault(f: Fault): Promise<Record<Role, { code: number; error?: string; reported: boolean; ms: number }>> {
  const cutLink = f.kind === 'cut' ? f.link : undefined;
  const via = async (from: Role, to: Role, port: number) => (cutLink?.includes(from) && cutLink.includes(to) ? (relays.push(await relay(port)), relays.at(-1)!.port) : port);
  const relays: Awaited<ReturnType<typeof relay>>[] = [];
  const helper = party('helper', ['--listen', '127.0.0.1:0']);
  const hPort = Number((await helper.when((e) => e.event === 'listening')).port);
  const server = party('server', ['--listen', '127.0.0.1:0', '--helper', `127.0.0.1:${await via('server', 'helper', hPort)}`, '--weights', 'synthetic:1']);
  const sPort = Number((await server.when((e) => e.event === 'listening')).port);
  const client = party('client', ['--server', `127.0.0.1:${await via('client', 'server', sPort)}`, '--helper', `127.0.0.1:${await via('client', 'helper', hPort)}`, '--random', '4']);
  const procs: Record<Role, Proc> = { client, server, helper };
  const watch = f.kind === 'cut' ? procs[f.link[0]] : procs[f.victim];
  const guard = setTimeout(() => ROLES.forEach((r) => procs[r].proc.kill('SIGKILL')), 60_000);
  try {
    await Promise.race([watch.when(pointReached[f.at]), watch.exited]);
    const t0 = performance.now();
    if (f.kind === 'kill') procs[f.victim].proc.kill('SIGKILL');
    else if (f.kind === 'stall') procs[f.victim].proc.kill('SIGSTOP');
    else relays.forEach((r) => r.cut());
    const survivors = f.kind === 'cut' ? ROLES : ROLES.filter((r) => r !== f.victim);
    const out = {} as Record<Role, { code: number; error?: string; reported: boolean; ms: number }>;
    await Promise.all(survivors.map(async (r) => {
      const code = await procs[r].exited;
      const err = procs[r].events.find((e) => e.event === 'error');
      out[r] = { code, error: err ? String(err.message) : undefined, reported: procs[r].events.some((e) => e.event === 'report'), ms: performance.now() - t0 };
    }));
    return out;
  } finally {
    clearTimeout(guard);
    if (f.kind === 'stall') procs[f.victim].proc.kill('SIGKILL');
    for (const r of ROLES) if (procs[r].proc.exitCode === null) procs[r].proc.kill('SIGKILL');
    await Promise.all(ROLES.map((r) => procs[r].exited));
    relays.forEach((r) => r.close());
  }
}

const WHERE = /session agreement|weight setup|session end|batch \d+\/\d+, (preprocessing|input|output|layer "[^"]+")/;

function check(name: string, res: Awaited<ReturnType<typeof runWithFault>>, failed: Role[]): void {
  try {
    for (const [role, r] of Object.entries(res) as [Role, (typeof res)[Role]][]) {
      const label = `${name}: ${role}`;
      assert.is.not(r.code, 0, `${label} exited 0`);
      assert.not.ok(r.reported, `${label} presented a report`);
      assert.ok(r.error, `${label}: no error event`);
      assert.match(r.error!, WHERE, `${label}: "${r.error}" does not say where`);
      const peers = failed.filter((f) => f !== role);
      assert.ok(peers.some((p) => r.error!.includes(p)), `${label}: "${r.error}" does not name ${peers.join(' or ')}`);
      assert.ok(r.ms < (TIMEOUT + 10) * 1000, `${label} took ${r.ms} ms to stop`);
    }
  } catch (e) {
    summary.push({ fault: name, survived: false });
    throw e;
  }
  summary.push({ fault: name, survived: true });
}

const points: Point[] = ['setup', 'first layer', 'middle', 'last layers'];
for (const victim of ROLES) {
  for (const at of points) {
    test(`kill the ${victim} at ${at}`, async () => {
      check(`kill ${victim} @ ${at}`, await runWithFault({ kind: 'kill', victim, at }), [victim]);
    });
  }
  for (const at of ['middle'] as Point[]) {
    test(`stall the ${victim} at ${at} (past the ${TIMEOUT} s timeout)`, async () => {
      check(`stall ${victim} @ ${at}`, await runWithFault({ kind: 'stall', victim, at }), [victim]);
    });
  }
}
for (const link of [['client', 'server'], ['client', 'helper'], ['server', 'helper']] as [Role, Role][]) {
  for (const at of ['setup', 'middle'] as Point[]) {
    test(`cut the ${link.join('-')} link at ${at}`, async () => {
      check(`cut ${link.join('-')} @ ${at}`, await runWithFault({ kind: 'cut', link, at }), link);
    });
  }
}

test.after(() => {
  writeFileSync(join(tmpdir(), 'si-faults-summary.json'), JSON.stringify(summary));
});

test.run();
