// The service: real `si serve` processes for the server and the helper, real `si client` processes (and raw
// TLS sockets for a client that sends garbage). Sessions run concurrently and give the labels they give one
// after another; a client that sends garbage, disconnects mid-layer or stalls ends only its own session;
// --max-sessions answers "busy"; a mismatched spec is refused naming the field; SIGTERM drains; public
// clients (no certificate) against a deployment CA; metrics in the Prometheus text format.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectSession, encodeHeader } from '@si/net';
import { ASSETS, fashionFiles, readIdx, writeDeploymentCerts } from '../src/index.ts';
import { runCli, type CliProcess as Proc } from '../src/index.ts';

const certs = join(mkdtempSync(join(tmpdir(), 'si-serve-')), 'certs');
writeDeploymentCerts(certs);
const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const MODEL = ['--model', 'fmnist-resnet', '--spec', `file:${ASSETS.spec6}`, '--batch', '2'];
const WEIGHTS = ['--weights', `file:${ASSETS.weights6}`];
const TIMEOUT = 3; // seconds a party of the service waits for a message
const fashion = fashionFiles('test');

const run = runCli;

interface Pair {
  server: Proc;
  helper: Proc;
  sp: number;
  hp: number;
  mp: number;
}

async function services(extra: string[] = [], clientAuth: string[] = [], dir = certs): Promise<Pair> {
  const common = ['--tls', dir, '--timeout', String(TIMEOUT), '--connect-timeout', '5', ...MODEL, ...extra, ...clientAuth];
  const helper = run(['serve', '--role', 'helper', '--listen', '127.0.0.1:0', ...common]);
  const hp = (await helper.when((e) => e.event === 'listening')).port as number;
  const server = run(['serve', '--role', 'server', '--listen', '127.0.0.1:0', '--helper', `127.0.0.1:${hp}`, '--metrics', '127.0.0.1:0', ...WEIGHTS, ...common]);
  const ev = await server.when((e) => e.event === 'listening');
  return { server, helper, hp, sp: ev.port as number, mp: ev.metricsPort as number };
}

function client(s: Pair, args: string[], auth: string[] = ['--tls', certs]): Proc {
  return run(['client', '--server', `127.0.0.1:${s.sp}`, '--helper', `127.0.0.1:${s.hp}`, ...auth, '--json', '--trace', '--timeout', '20', ...MODEL, ...args]);
}

const images = (start: number, count: number) => ['--images', fashion.images, '--labels', fashion.labels, '--start', String(start), '--count', String(count)];

async function labelsOf(c: Proc): Promise<number[]> {
  const code = await c.exited;
  assert.is(code, 0, `client failed: ${c.stderr.join('\n')}`);
  return c.events.find((e) => e.event === 'report')!.labels as number[];
}

const outcome = (p: Proc, event: string) => p.events.filter((e) => e.event === event);
const stop = async (...ps: Proc[]) => Promise.all(ps.map((p) => (p.proc.exitCode === null && p.proc.kill('SIGKILL'), p.exited)));

let main: Pair;
test.before(async () => {
  main = await services(['--max-sessions', '4']);
});
test.after(async () => {
  await stop(main.server, main.helper);
});

test('two concurrent sessions give the labels of two sequential ones', async () => {
  const [a, b] = [client(main, images(0, 4)), client(main, images(4, 4))];
  const concurrent = [await labelsOf(a), await labelsOf(b)];
  const sequential = [await labelsOf(client(main, images(0, 4))), await labelsOf(client(main, images(4, 4)))];
  assert.equal(concurrent, sequential);
  // They did overlap at the server: the second started before the first ended.
  const ev = main.server.events;
  const starts = ev.filter((e) => e.event === 'session-start').slice(0, 2).map((e) => ev.indexOf(e));
  const firstDone = ev.findIndex((e) => e.event === 'session-done');
  assert.ok(starts.length === 2 && starts[1]! < firstDone, 'the two sessions ran at the same time');
  // And the labels are the network's: 8 real test images, most of them right.
  const truth = Array.from(readIdx(fashion.labels).data.subarray(0, 8));
  assert.ok(concurrent.flat().filter((l, i) => l === truth[i]).length >= 6, `labels ${concurrent.flat()} against ${truth}`);
});

test('a client that sends garbage ends only its own session', async () => {
  const good = client(main, images(8, 6));
  await good.when((e) => e.event === 'connected');
  const socket = tls.connect({ host: '127.0.0.1', port: main.sp, ca: readFileSync(join(certs, 'ca.pem')), cert: readFileSync(join(certs, 'client.pem')), key: readFileSync(join(certs, 'client.key')), checkServerIdentity: () => undefined });
  await new Promise((r) => socket.once('secureConnect', r));
  const hello = Buffer.from(JSON.stringify({ proto: 'si/1', from: 'client', to: 'server', session: 'new' }));
  socket.write(Buffer.concat([encodeHeader('si-hello', [], hello.length), hello]));
  await new Promise((r) => socket.once('data', r)); // the server's answer: the session exists now
  socket.write(Buffer.from('this is not a frame of any kind, just bytes'.repeat(20)));
  const failed = await main.server.when((e) => e.event === 'session-failed' && /malformed|frame/i.test(String(e.error)));
  socket.destroy();
  // One that says hello and resets the connection at once, while the server is still opening the helper link.
  for (let i = 0; i < 3; i++) {
    const raw = net.connect({ host: '127.0.0.1', port: main.sp });
    await new Promise((r) => raw.once('connect', r));
    const s2 = tls.connect({ socket: raw, ca: readFileSync(join(certs, 'ca.pem')), cert: readFileSync(join(certs, 'client.pem')), key: readFileSync(join(certs, 'client.key')), checkServerIdentity: () => undefined });
    await new Promise((r) => s2.once('secureConnect', r));
    s2.write(Buffer.concat([encodeHeader('si-hello', [], hello.length), hello]));
    raw.resetAndDestroy();
  }
  await main.helper.when((e) => e.event === 'session-failed' && e.session === failed.session);
  assert.is((await labelsOf(good)).length, 6);
});

test('a client that disconnects mid-layer ends only its own session', async () => {
  const good = client(main, images(14, 6));
  const dying = client(main, images(20, 6));
  const layer = await dying.when((e) => e.event === 'layer' && e.batch === 1);
  assert.ok(layer);
  dying.proc.kill('SIGKILL');
  await main.server.when((e) => e.event === 'session-failed' && /client/.test(String(e.error)) && !/malformed/.test(String(e.error)));
  assert.is((await labelsOf(good)).length, 6);
});

test('a stalled client ends only its own session, within the timeout', async () => {
  const failedBefore = outcome(main.server, 'session-failed').length;
  const stalled = client(main, images(26, 6));
  await stalled.when((e) => e.event === 'setup');
  stalled.proc.kill('SIGSTOP');
  const t0 = Date.now();
  const good = client(main, images(32, 6));
  assert.is((await labelsOf(good)).length, 6);
  const failed = await main.server.when((e) => e.event === 'session-failed' && outcome(main.server, 'session-failed').indexOf(e) >= failedBefore);
  assert.match(String(failed.error), /within \d+ ms|timed out/);
  assert.ok(Date.now() - t0 < (TIMEOUT + 15) * 1000);
  await main.helper.when((e) => e.event === 'session-failed' && e.session === failed.session);
  stalled.proc.kill('SIGKILL');
  await stalled.exited;
});

test('a client with another spec is refused at agreement, naming the field', async () => {
  const wrong = run(['client', '--server', `127.0.0.1:${main.sp}`, '--helper', `127.0.0.1:${main.hp}`, '--tls', certs, '--json', '--model', 'fmnist-resnet', '--spec', 'relu', '--batch', '2', '--random', '1']);
  assert.is(await wrong.exited, 1);
  assert.match(wrong.stderr.join('\n'), /disagree on the patch spec/);
  assert.is((await labelsOf(client(main, images(0, 2)))).length, 2);
});

test('metrics: Prometheus text with sessions done and failed, bytes and the latency histogram', async () => {
  const text = await (await fetch(`http://127.0.0.1:${main.mp}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name.replace(/[{}"=,]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text)?.[1]);
  assert.ok(value('si_sessions_total{role="server",outcome="done"}') >= 8, text);
  assert.ok(value('si_sessions_total{role="server",outcome="failed"}') >= 4, text);
  assert.ok(value('si_sent_bytes_total{role="server"}') > 0);
  assert.is(value('si_session_duration_seconds_count{role="server"}'), value('si_sessions_total{role="server",outcome="done"}') + value('si_sessions_total{role="server",outcome="failed"}'));
  assert.match(text, /# TYPE si_session_duration_seconds histogram/);
  assert.is(value('si_sessions_running{role="server"}'), 0);
  // Nothing secret in the logs: no PEM, no key material.
  for (const p of [main.server, main.helper]) assert.not.match(JSON.stringify(p.events) + p.stderr.join(''), /PRIVATE KEY|BEGIN/);
});

test('--max-sessions: beyond it a client is told busy, retry, at once', async () => {
  const one = await services(['--max-sessions', '1']);
  try {
    const holding = client(one, images(0, 4));
    await holding.when((e) => e.event === 'setup');
    holding.proc.kill('SIGSTOP');
    const t0 = Date.now();
    const turned = client(one, images(0, 2));
    assert.is(await turned.exited, 1);
    assert.ok(Date.now() - t0 < 10_000, 'answered, not left waiting');
    assert.match(turned.stderr.join('\n'), /busy: 1 of 1 sessions running at the server; retry later/);
    holding.proc.kill('SIGKILL');
    await holding.exited;
    await one.server.when((e) => e.event === 'session-failed');
    assert.is((await labelsOf(client(one, images(0, 2)))).length, 2, 'the slot is free again');
  } finally {
    await stop(one.server, one.helper);
  }
});

test('SIGTERM drains: the running session finishes, new ones are refused, then the services exit', async () => {
  const s = await services(['--timeout', '30']);
  const running = client(s, images(0, 10));
  await running.when((e) => e.event === 'batch');
  running.proc.kill('SIGSTOP'); // held mid-session while the services are told to stop
  s.server.proc.kill('SIGTERM');
  s.helper.proc.kill('SIGTERM');
  await Promise.all([s.server.when((e) => e.event === 'draining'), s.helper.when((e) => e.event === 'draining')]);
  const late = client(s, images(0, 2));
  assert.is(await late.exited, 1);
  assert.match(late.stderr.join('\n'), /shutting down/);
  running.proc.kill('SIGCONT');
  assert.is((await labelsOf(running)).length, 10);
  assert.is(await s.server.exited, 0);
  assert.is(await s.helper.exited, 0);
  assert.is(outcome(s.server, 'stopped').length, 1);
  assert.is(outcome(s.server, 'session-done').length, 1);
});

test('public clients: no client certificate, the service authenticated by the deployment CA; server-helper stays mutual', async () => {
  // Certificates valid for the name localhost only (not 127.0.0.1): the host-name check has something to refuse.
  const named = join(mkdtempSync(join(tmpdir(), 'si-serve-')), 'certs');
  writeDeploymentCerts(named, { hosts: { server: ['localhost'], helper: ['localhost'] } });
  const s = await services([], ['--public-clients'], named);
  try {
    const anon = client(s, images(0, 2), ['--ca', join(named, 'ca.pem')]);
    assert.is((await labelsOf(anon)).length, 2);
    // Web PKI: the system's roots (here the deployment CA added to them) and a host-name check.
    const web = run(['client', '--server', `localhost:${s.sp}`, '--helper', `localhost:${s.hp}`, '--web-pki', '--json', '--timeout', '20', ...MODEL, ...images(0, 2)], { env: { NODE_EXTRA_CA_CERTS: join(named, 'ca.pem') } });
    assert.is((await labelsOf(web)).length, 2);
    const wrongName = run(['client', '--server', `127.0.0.1:${s.sp}`, '--helper', `localhost:${s.hp}`, '--web-pki', '--json', '--connect-timeout', '3', ...MODEL, ...images(0, 1)], { env: { NODE_EXTRA_CA_CERTS: join(named, 'ca.pem') } });
    assert.is(await wrongName.exited, 1);
    assert.match(wrongName.stderr.join('\n'), /altnames|not in the cert|does not match/i);
    // A certificate-less "server" may not open a session at the helper.
    const err = await connectSession({ self: 'server', peer: 'helper', port: s.hp, tls: { anonymous: true, ca: readFileSync(join(named, 'ca.pem'), 'utf8') }, session: 'ab'.repeat(16), connectTimeoutMs: 3000 }).catch((e: Error) => e);
    assert.instance(err, Error);
    // And the mutual-TLS service refuses a client without a certificate, saying why.
    const refused = client(main, images(0, 1), ['--ca', join(certs, 'ca.pem')]);
    assert.is(await refused.exited, 1);
    assert.match(refused.stderr.join("\n"), /requires a client certificate of its deployment CA \(it does not accept public clients\)/);
  } finally {
    await stop(s.server, s.helper);
  }
});

// The README's "Serve a model" commands, with the same flags: `pnpm si` is this checkout's CLI, the
// certificate directory a temporary one and the ports free ones (CI machines run other things).
test('the README\'s "Serve a model" commands work as shown', async () => {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Serve a model'), readme.indexOf('\n## ', readme.indexOf('## Serve a model') + 5));
  const commands = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.replace(/\\\n\s*/g, ' ').trim().split('\n')).map((l) => l.trim());
  assert.equal(commands.map((c) => c.split(' ').slice(0, 3).join(' ')), ['pnpm si certs', 'pnpm si serve', 'pnpm si serve', 'pnpm si client']);
  const dir = join(mkdtempSync(join(tmpdir(), 'si-readme-')), 'certs');
  const free = [0, 0, 0].map(() => 20000 + Math.floor(Math.random() * 20000));
  const argv = (c: string) => c.replace(/^pnpm si /, '').replace(/(--out|--tls) certs\b/g, `$1 ${dir}`)
    .replace(/:7100\b/g, `:${free[0]}`).replace(/:7101\b/g, `:${free[1]}`).replace(/:9464\b/g, `:${free[2]}`).split(/\s+/);
  const inRoot = (args: string[]) => {
    const proc = spawn(process.execPath, [...process.execArgv, cli, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: string[] = [];
    proc.stdout!.on('data', (d) => out.push(String(d)));
    proc.stderr!.on('data', (d) => out.push(String(d)));
    return { proc, out, exited: new Promise<number>((r) => proc.on('close', (code) => r(code ?? 1))) };
  };
  const certsRun = inRoot(argv(commands[0]!));
  assert.is(await certsRun.exited, 0);
  const svc = [inRoot(argv(commands[1]!)), inRoot(argv(commands[2]!))];
  try {
    const listening = (s: { out: string[] }) => new Promise<void>((resolve) => {
      const t = setInterval(() => /"event":"listening"/.test(s.out.join('')) && (clearInterval(t), resolve()), 100);
    });
    await Promise.all(svc.map(listening));
    const c = inRoot(argv(commands[3]!));
    assert.is(await c.exited, 0, c.out.join(''));
    assert.match(c.out.join(''), /shirt\.png\s+6\s+Shirt/);
    const metrics = await (await fetch(`http://127.0.0.1:${free[2]}/metrics`)).text();
    assert.match(metrics, /^si_sessions_total\{role="server",outcome="done"\} 1$/m);
  } finally {
    for (const s of svc) s.proc.kill('SIGTERM');
    assert.equal(await Promise.all(svc.map((s) => s.exited)), [0, 0], 'SIGTERM with no session running: exit 0');
  }
});

test.run();
