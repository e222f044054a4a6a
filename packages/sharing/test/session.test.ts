import { test } from 'uvu';
import { inspect } from 'node:util';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createCA, issueCert, LinkClosedError, LinkServer } from '@si/net';
import { RingTensor } from '@si/ring';
import { beaver, connectParty, elementwise, localParties, PrfStream, reveal, shareInput, type Party } from '../src/index.ts';
import { all, closeAll, tcpParties, type Trio } from '../src/testing.ts';

test('PRF streams: both holders read the same bytes; labels and repeated draws are separated', async () => {
  const [p0, p1, p2] = await localParties();
  try {
    const a = p0.prf(1).bytes('x', 64), b = p1.prf(0).bytes('x', 64);
    assert.equal([...a], [...b]);
    assert.not.equal([...p0.prf(1).bytes('x', 64)], [...a], 'the second draw with a label differs');
    assert.not.equal([...p0.prf(1).bytes('y', 64)], [...p1.prf(0).bytes('x', 64)].slice(0, 64), 'labels separate draws');
    assert.not.equal([...p0.prf(2).bytes('x', 64)], [...a], 'pairs have different keys');
    assert.equal([...p1.prf(2).ring('r', [3]).data], [...p2.prf(1).ring('r', [3]).data]);
    const bits = p0.prf(2).bits('b', 1000);
    const ones = bits.reduce((s, v) => s + v, 0);
    assert.ok(bits.every((v) => v === 0 || v === 1) && ones > 400 && ones < 600, `ones: ${ones}`);
    // A known key and label give known bytes (AES-128-CTR is deterministic): the stream is keyed, not random.
    const k = new PrfStream(new Uint8Array(16), 'test');
    assert.equal([...k.bytes('kat', 4)], [...new PrfStream(new Uint8Array(16), 'test').bytes('kat', 4)]);
    assert.throws(() => new PrfStream(new Uint8Array(8), 'short'), /"key" of short expected 16 bytes/);
  } finally {
    for (const p of [p0, p1, p2]) p.close();
  }
});

test('two sessions with the same inputs produce different transcripts', async () => {
  const transcript = async (): Promise<string> => {
    const ps = await localParties();
    const sent: string[] = [];
    const link = ps[0].link(1).link;
    const send = link.send.bind(link);
    link.send = (tag, payload, scope) => {
      sent.push(`${tag}:${Buffer.from((payload as BigInt64Array).buffer).toString('hex')}`);
      send(tag, payload, scope);
    };
    const x = RingTensor.from([1, 2, 3, 4]);
    await all(ps, async (p) => {
      const xs = shareInput(p, 0, [4], p.id === 0 ? x : undefined);
      const z = await beaver(p, xs, xs, elementwise);
      return reveal(p, z, 'client');
    });
    closeAll(ps);
    return sent.join('|');
  };
  const [t1, t2] = [await transcript(), await transcript()];
  assert.ok(t1.length > 0);
  assert.not.equal(t1, t2);
});

test('TLS parties: a helper with a certificate from another CA is refused by both others', async () => {
  const ca = createCA(), rogue = createCA({ name: 'rogue' });
  const creds = (role: string, by = ca) => ({ ca: ca.cert, ...issueCert(by, { role }) });
  const good = await tcpParties({ client: creds('client'), server: creds('server'), helper: creds('helper') });
  const xs = await all(good, (p) => shareInput(p, 0, [2], p.id === 0 ? RingTensor.from([3, 4]) : undefined));
  const zs = await all(good, (p) => beaver(p, xs[p.id], xs[p.id], elementwise));
  const opened = await all(good, (p) => reveal(p, zs[p.id], 'client'));
  assert.equal([...opened[0]!.data], [9n, 16n]);
  closeAll(good);
  const err = await tcpParties({ client: creds('client'), server: creds('server'), helper: creds('helper', rogue) }).then(() => null, (e: Error) => e);
  assert.instance(err, LinkClosedError);
  assert.match(err!.message, /helper/);
});

test('killing the helper mid-protocol makes the client and the server fail fast, naming the helper', async () => {
  const fixture = fileURLToPath(new URL('./fixtures/party.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@si/source', fixture, 'helper', '0', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const lines = createInterface({ input: child.stdout! });
    const [first] = (await once(lines, 'line')) as [string];
    const helperPort = Number(/^port (\d+)$/.exec(first)![1]);
    const serverL = await LinkServer.listen({ self: 'server', port: 0, insecurePlaintext: true });
    const deployment = { server: { host: '127.0.0.1', port: serverL.port }, helper: { host: '127.0.0.1', port: helperPort } };
    const [p0, p1] = await Promise.all([
      connectParty({ role: 'client', deployment, connectTimeoutMs: 10_000, insecurePlaintext: true }),
      connectParty({ role: 'server', deployment, listener: serverL, connectTimeoutMs: 10_000, insecurePlaintext: true }),
    ]);
    await serverL.close();
    const loop = async (p: Party): Promise<Error> => {
      const x = shareInput(p, 0, [1000], p.id === 0 ? RingTensor.zeros([1000]) : undefined);
      try {
        for (let i = 0; ; i++) await p.scope(`step${i}`, (q) => beaver(q, x, x, elementwise));
      } catch (e) {
        return e as Error;
      }
    };
    const running = Promise.all([loop(p0), loop(p1)]);
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    child.kill('SIGKILL');
    const [e0, e1] = await running;
    const elapsed = Date.now() - t0;
    assert.ok(elapsed < 5000, `took ${elapsed} ms`);
    // The client waits on the helper's correction; the server on the client, which stops when the helper dies.
    assert.instance(e0, LinkClosedError);
    assert.match(e0.message, /helper/);
    assert.instance(e1, LinkClosedError);
    assert.match(e1.message, /link to (helper|client)/);
    p0.close();
    p1.close();
  } finally {
    child.kill('SIGKILL');
  }
});

test('PRF keys are not printable: inspecting or serialising a stream or a party shows no key bytes', async () => {
  const key = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
  const hex = Buffer.from(key).toString('hex');
  const prf = new PrfStream(key, 'prf01');
  const first = prf.bytes('x', 16);
  key.fill(0); // the caller may wipe its copy: the stream keeps working
  assert.ok(first.length === 16 && new PrfStream(Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i), 'prf01').bytes('x', 16).every((b, i) => b === first[i]));
  for (const text of [inspect(prf, { depth: 10, showHidden: true }), JSON.stringify(prf), String(prf)]) {
    assert.not.ok(text.includes(hex) && text.length > 0, text);
    assert.not.match(text, /a0,\s*161|160,\s*161/);
  }
  const ps = (await localParties()) as Trio;
  const shown = inspect(ps[0], { depth: 12, showHidden: true });
  assert.not.match(shown, /key: (Uint8Array|<Buffer)/);
  closeAll(ps);
});

test.run();
