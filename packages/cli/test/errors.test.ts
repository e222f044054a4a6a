import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createCA, issueCert, type TlsCredentials } from '@si/net';
import type { Role } from '@si/sharing';
import { idxImages, parseMode, readDeployment, readIdx, runParty, writeDeploymentCerts, type PartyConfig } from '../src/index.ts';

const ca = createCA();
const creds = (role: Role, authority = ca): TlsCredentials => ({ ca: ca.cert, ...issueCert(authority, { role, hosts: ['127.0.0.1'] }) });
const dir = mkdtempSync(join(tmpdir(), 'si-cli-test-'));

type Outcome = { ok: true } | { ok: false; message: string };
const settle = (p: Promise<unknown>): Promise<Outcome> => p.then(() => ({ ok: true as const }), (e: Error) => ({ ok: false as const, message: e.message }));

/** Runs the three parties in this process over TLS on free ports; per-role overrides. */
async function three(over: Partial<Record<Role, Partial<PartyConfig>>> = {}): Promise<Record<Role, Outcome>> {
  const base = { model: 'fmnist-resnet', mode: 'small16', batch: 1, connectTimeoutSeconds: 3, timeoutSeconds: 10 };
  const local = { host: '127.0.0.1', port: 0 };
  let hp!: (port: number) => void, sp!: (port: number) => void;
  const helperPort = new Promise<number>((r) => (hp = r)), serverPort = new Promise<number>((r) => (sp = r));
  const helper = settle(runParty({ ...base, role: 'helper', tls: creds('helper'), listen: local, deployment: { server: local, helper: local }, ...over.helper }, { onListening: hp }));
  const h = await Promise.race([helperPort, helper.then(() => 0)]);
  const server = settle(runParty({ ...base, role: 'server', tls: creds('server'), listen: local, weights: 'synthetic:1', deployment: { server: local, helper: { ...local, port: h } }, ...over.server }, { onListening: sp }));
  const s = await Promise.race([serverPort, server.then(() => 0)]);
  const client = settle(runParty({ ...base, role: 'client', tls: creds('client'), input: { kind: 'random', count: 1 }, deployment: { server: { ...local, port: s }, helper: { ...local, port: h } }, ...over.client }));
  const [c, sv, hl] = await Promise.all([client, server, helper]);
  return { client: c, server: sv, helper: hl };
}

test('a client certificate from another CA is refused, and every party stops with an error', async () => {
  const other = createCA({ name: 'impostor CA' });
  const r = await three({ client: { tls: { ca: ca.cert, ...issueCert(other, { role: 'client', hosts: ['127.0.0.1'] }) } } });
  for (const role of ['client', 'server', 'helper'] as const) assert.not.ok(r[role].ok, `${role} must fail`);
  const msg = (r.client as { message: string }).message;
  assert.ok(/certificate|alert|handshake|closed|reset/i.test(msg), msg);
});

test('a certificate for the wrong role is refused', async () => {
  // The client presents the server's certificate (same CA, common name "server").
  const r = await three({ client: { tls: creds('server') } });
  for (const role of ['client', 'server', 'helper'] as const) assert.not.ok(r[role].ok, `${role} must fail`);
});

test('parties that disagree on a public parameter stop before any share moves, naming it', async () => {
  const r = await three({ client: { mode: 'full' } });
  for (const role of ['client', 'server', 'helper'] as const) {
    assert.not.ok(r[role].ok);
    assert.match((r[role] as { message: string }).message, /disagree on the mode|mode/);
  }
  const s = await three({ helper: { spec: 'knapsack:0.5' } });
  assert.match((s.client as { message: string }).message, /patch spec/);
  // The client asking for logits while the server reveals labels only: refused, not silently served.
  const t = await three({ client: { reveal: 'logits' } });
  assert.match((t.server as { message: string }).message, /the server and the client disagree on the reveal: "label" here, "logits" there/);
});

test('configuration errors are reported before connecting', async () => {
  const local = { host: '127.0.0.1', port: 0 };
  const d = { server: local, helper: local };
  const fails = async (cfg: PartyConfig, re: RegExp) => {
    const o = await settle(runParty(cfg));
    assert.not.ok(o.ok);
    assert.match((o as { message: string }).message, re);
  };
  const base = { model: 'fmnist-resnet', deployment: d, listen: local } as const;
  await fails({ ...base, role: 'server', tls: creds('server') }, /server needs weights/);
  await fails({ ...base, role: 'helper', tls: creds('helper'), weights: 'synthetic:1' }, /only the server holds the weights/);
  await fails({ ...base, role: 'server', tls: creds('server'), weights: join(dir, 'missing.safetensors') }, /cannot read weights .*missing/);
  await fails({ ...base, role: 'helper', tls: creds('helper'), input: { kind: 'random', count: 1 } }, /only the client holds the images/);
  await fails({ ...base, role: 'helper', tls: creds('helper'), model: 'resnet19' }, /unknown model "resnet19"/);
  await fails({ ...base, role: 'helper', tls: creds('helper'), mode: 'small99' }, /comparison mode "small99"/);
  // K > 32 used to pass here and fail only after the weight setup.
  await fails({ ...base, role: 'helper', tls: creds('helper'), mode: 'small:0:40' }, /comparison mode "small:0:40": need 2 <= K <= 32/);
  await fails({ ...base, role: 'helper', tls: creds('helper'), spec: 'knapsack:1.5' }, /budget fraction/);
  await fails({ ...base, role: 'helper', tls: creds('helper'), reveal: 'top3' }, /unknown reveal mode "top3" \(use label, topk:K with K >= 1, or logits\)/);
  await fails({ ...base, role: 'helper', tls: creds('helper'), reveal: 'topk:11' }, /topk:11 asks for more classes than the model's 10/);
  // 2 images of 5x5: the wrong size for a 28x28 model.
  const small = join(dir, 'small-idx3-ubyte');
  writeFileSync(small, Buffer.from([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 5, 0, 0, 0, 5, ...new Array(50).fill(7)]));
  await fails({ ...base, role: 'client', tls: creds('client'), input: { kind: 'idx', images: small } }, /5x5x1 images; model "fmnist_resnet" takes 28x28x1|takes 28x28x1/);
});

test('IDX files: plain and gzipped read the same; bad magic, truncation and wrong sizes are named', () => {
  const bytes = Buffer.from([0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 0, 64, 128, 255]);
  const plain = join(dir, 'a-idx3-ubyte'), gz = join(dir, 'a-idx3-ubyte.gz');
  writeFileSync(plain, bytes);
  writeFileSync(gz, gzipSync(bytes));
  assert.equal(readIdx(gz), readIdx(plain));
  assert.equal(Array.from(idxImages(plain).x), Array.from(Float32Array.from([0, 64 / 255, 128 / 255, 1])));
  assert.equal(idxImages(plain).shape, [1, 1, 2, 2]);
  const bad = join(dir, 'bad');
  writeFileSync(bad, Buffer.from([1, 2, 3, 4]));
  assert.throws(() => readIdx(bad), /not an IDX file/);
  writeFileSync(bad, bytes.subarray(0, 18));
  assert.throws(() => readIdx(bad), /2 data bytes for dims \[1,2,2\] \(4 expected\)/);
  assert.throws(() => idxImages(plain, 0, 2), /has 1 images; asked for 2/);
});

test('comparison modes by name', () => {
  assert.equal(parseMode('full'), { mode: 'full' });
  assert.equal(parseMode('small16'), { mode: 'small-ring', dropLowBits: 4, keepBits: 16 });
  assert.equal(parseMode('paper:0:24'), { mode: 'paper', dropLowBits: 0, keepBits: 24 });
  assert.equal(parseMode('twohop16'), { mode: 'small-ring', dropLowBits: 4, keepBits: 16, hops: 2 });
  assert.throws(() => parseMode('twohop:0:32'), /K <= 31/);
  assert.throws(() => parseMode('small:10:60'), /D \+ K <= 63/);
  assert.throws(() => parseMode('fast'), /unknown comparison mode/);
});

test('deployment files are checked field by field', () => {
  const f = join(dir, 'deploy.json');
  writeFileSync(f, JSON.stringify({ server: { host: 'a', port: 7001 }, helper: { host: 'b', port: 7002 }, certs: 'certs' }));
  assert.equal(readDeployment(f), { server: { host: 'a', port: 7001 }, helper: { host: 'b', port: 7002 }, certs: join(dir, 'certs') });
  writeFileSync(f, JSON.stringify({ server: { host: 'a', port: 70010 }, helper: { host: 'b', port: 7002 }, certs: 'certs' }));
  assert.throws(() => readDeployment(f), /"server" must be/);
  writeFileSync(f, '{');
  assert.throws(() => readDeployment(f), /cannot read deployment file/);
});

test('si certs: the CA outlives the party certificates and has path length 0; key files are 0600 even when they existed', () => {
  const d = mkdtempSync(join(tmpdir(), 'si-certs-'));
  writeFileSync(join(d, 'client.key'), 'old', { mode: 0o644 });
  chmodSync(join(d, 'client.key'), 0o644);
  writeDeploymentCerts(d, { days: 30 });
  const ca = new X509Certificate(readFileSync(join(d, 'ca.pem')));
  const party = new X509Certificate(readFileSync(join(d, 'client.pem')));
  const years = (x: X509Certificate) => (Date.parse(x.validTo) - Date.now()) / (365.25 * 86_400_000);
  assert.ok(years(ca) > 9.9 && years(party) < 0.1, `CA ${ca.validTo}, party ${party.validTo}`);
  assert.ok(ca.ca && !party.ca);
  // basicConstraints = SEQUENCE { cA TRUE, pathLenConstraint 0 }.
  assert.ok(ca.raw.includes(Buffer.from([0x30, 0x06, 0x01, 0x01, 0xff, 0x02, 0x01, 0x00])), 'path length 0');
  for (const f of ['ca.key', 'client.key', 'server.key', 'helper.key']) assert.is(statSync(join(d, f)).mode & 0o777, 0o600, f);
  assert.throws(() => writeDeploymentCerts(d), /refusing to overwrite a deployment CA/);
});

test.run();
