// Fault injection: three real `si party` processes over TLS; one party is killed or stalled, or one link is
// cut, at a point of the run (weight setup, the first layer, a middle layer, the output layer). The other
// parties must exit non-zero within the timeout, with an error that names the failed peer and where the run
// was, without presenting a result; no process may be left behind.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeDeploymentCerts } from '../src/index.ts';
import { runCli, type CliEvent as Event, type CliProcess as Proc } from '../src/index.ts';

type Role = 'client' | 'server' | 'helper';
type Point = 'setup' | 'first layer' | 'middle' | 'last layers';
const ROLES: Role[] = ['client', 'server', 'helper'];
const TIMEOUT = 3; // seconds a party waits for a message (si party --timeout)

const certs = join(mkdtempSync(join(tmpdir(), 'si-faults-')), 'certs');
writeDeploymentCerts(certs);
const summary: { fault: string; survived: boolean }[] = [];

interface Party extends Proc {
  role: Role;
}

function party(role: Role, args: string[]): Party {
  return Object.assign(runCli(['party', '--role', role, '--tls', certs, '--json', '--trace', '--timeout', String(TIMEOUT), '--connect-timeout', '10',
    '--model', 'fmnist-resnet', '--spec', 'knapsack:0.1:ci', '--batch', '2', ...args]), { role });
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

// --- Connect-time faults: a peer that accepts and goes silent, that sends garbage before or after the TLS
// handshake, that completes TLS and never says hello; a connector that stalls on a listener. Every real
// party must exit non-zero within its connect timeout (3 s here), naming the peer, with no process left.
const CONNECT = 3;

type Rogue = 'silent' | 'garbage' | 'tls-silent' | 'tls-garbage';

async function rogueServer(kind: Rogue): Promise<{ port: number; close(): void }> {
  const socks: net.Socket[] = [];
  const onSocket = (s: net.Socket) => {
    socks.push(s);
    s.on('error', () => {});
    if (kind === 'garbage') s.write('SSH-2.0-OpenSSH_9.6\r\n');
    if (kind === 'tls-garbage') s.write('\x00\x00\x00garbage after the handshake');
  };
  const srv = kind.startsWith('tls')
    ? tls.createServer({ ca: readFileSync(join(certs, 'ca.pem')), cert: readFileSync(join(certs, 'server.pem')), key: readFileSync(join(certs, 'server.key')), requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' }, onSocket)
    : net.createServer(onSocket);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { port: (srv.address() as net.AddressInfo).port, close: () => (socks.forEach((x) => x.destroy()), srv.close()) };
}

async function exitOf(p: Proc, t0: number): Promise<{ code: number; error?: string; ms: number }> {
  const code = await p.exited;
  const err = p.events.find((e) => e.event === 'error');
  return { code, error: err ? String(err.message) : p.stderr.join(' '), ms: performance.now() - t0 };
}

function checkConnect(name: string, r: { code: number; error?: string; ms: number }, peer: RegExp): void {
  try {
    assert.is.not(r.code, 0, `${name}: exited 0`);
    assert.match(r.error ?? '', peer, `${name}: "${r.error}"`);
    assert.ok(r.ms < (CONNECT + 5) * 1000, `${name}: took ${r.ms} ms`);
  } catch (e) {
    summary.push({ fault: name, survived: false });
    throw e;
  }
  summary.push({ fault: name, survived: true });
}

for (const kind of ['silent', 'garbage', 'tls-silent', 'tls-garbage'] as Rogue[]) {
  test(`connect-time: the client facing a server that ${({ silent: 'accepts and goes silent', garbage: 'sends garbage instead of TLS', 'tls-silent': 'completes TLS and never says hello', 'tls-garbage': 'sends garbage after the TLS handshake' })[kind]}`, async () => {
    const rogue = await rogueServer(kind);
    const helper = party('helper', ['--listen', '127.0.0.1:0', '--connect-timeout', String(CONNECT)]);
    const hPort = Number((await helper.when((e) => e.event === 'listening')).port);
    const t0 = performance.now();
    const client = party('client', ['--server', `127.0.0.1:${rogue.port}`, '--helper', `127.0.0.1:${hPort}`, '--random', '1', '--connect-timeout', String(CONNECT)]);
    const guard = setTimeout(() => [client, helper].forEach((p) => p.proc.kill('SIGKILL')), 60_000);
    try {
      const c = await exitOf(client, t0);
      const h = await exitOf(helper, t0);
      checkConnect(`connect: client vs ${kind} server`, c, /server/);
      // The helper waits for a server that never comes (the client gave up): it too stops in time.
      checkConnect(`connect: helper while the client fails (${kind})`, h, /client|server/);
    } finally {
      clearTimeout(guard);
      for (const p of [client, helper]) if (p.proc.exitCode === null) p.proc.kill('SIGKILL');
      rogue.close();
    }
  });
}

test('connect-time: a connector that opens TCP to the helper and stalls does not hold it past its connect timeout', async () => {
  const helper = party('helper', ['--listen', '127.0.0.1:0', '--connect-timeout', String(CONNECT)]);
  const hPort = Number((await helper.when((e) => e.event === 'listening')).port);
  const t0 = performance.now();
  const stuck = [net.connect(hPort, '127.0.0.1'), net.connect(hPort, '127.0.0.1')];
  stuck.forEach((s) => s.on('error', () => {}));
  stuck[1]!.on('connect', () => stuck[1]!.write(Buffer.alloc(100, 0x16)));
  try {
    const h = await exitOf(helper, t0);
    checkConnect('connect: helper with stalled connectors', h, /client|server/);
    assert.match(h.error!, /did not connect/);
  } finally {
    stuck.forEach((s) => s.destroy());
    if (helper.proc.exitCode === null) helper.proc.kill('SIGKILL');
  }
});

test.after(() => {
  writeFileSync(join(tmpdir(), 'si-faults-summary.json'), JSON.stringify(summary));
});

test.run();
