import { test } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { connectLink, connectSession, createCA, encodeHeader, isLoopback, issueCert, Ledger, LinkClosedError, LinkServer, RefusedError, type Incoming, type TlsCredentials } from '../src/index.ts';

const ca = createCA();
const other = createCA({ name: 'someone else' });
const creds = (role: string, authority = ca): TlsCredentials => ({ ca: ca.cert, ...issueCert(authority, { role }) });

async function pair(server: TlsCredentials | undefined, client: TlsCredentials | undefined, roles = { s: 'server', c: 'client', claim: 'client' }) {
  const srv = await LinkServer.listen({ self: roles.s, port: 0, tls: server, helloTimeoutMs: 2000 });
  const accepted = srv.accept(roles.claim, { timeoutMs: 3000 });
  const connected = connectLink({ self: roles.claim, peer: roles.s, port: srv.port, tls: client, connectTimeoutMs: 3000 });
  return { srv, accepted, connected };
}

async function settle<T>(p: Promise<T>): Promise<T | Error> {
  return p.catch((e: Error) => e);
}

test('plain TCP: large messages in order, ledger counts payload bytes', async () => {
  const ls = new Ledger(), lc = new Ledger();
  const srv = await LinkServer.listen({ self: 'server', port: 0, link: { ledger: ls }, insecurePlaintext: true });
  const [s, c] = await Promise.all([srv.accept('client'), connectLink({ self: 'client', peer: 'server', port: srv.port, link: { ledger: lc }, insecurePlaintext: true })]);
  const big = new BigInt64Array(3_000_000).map((_, i) => BigInt(i) * 0x1234567n - 77n);
  c.send('big', big);
  c.send('small', new Uint8Array([1, 2]));
  const got = await s.recvI64('big', big.length);
  assert.ok(got.every((v, i) => v === big[i]));
  const small = await s.recv('small');
  assert.equal([...small], [1, 2]);
  assert.not.ok(Buffer.isBuffer(small), 'payloads are plain Uint8Arrays (slice copies)');
  assert.is(small.slice(1).buffer.byteLength, 1);
  const [x, y] = await Promise.all([s.exchangeI64('swap', BigInt64Array.of(1n)), c.exchangeI64('swap', BigInt64Array.of(2n))]);
  assert.equal([x[0], y[0]], [2n, 1n]);
  assert.is(lc.totals().sent, big.byteLength + 2 + 8);
  assert.is(ls.totals().received, big.byteLength + 2 + 8);
  c.close();
  s.close();
  await srv.close();
});

test('a peer dying mid-protocol rejects pending receives with an error naming it, in bounded time', async () => {
  const srv = await LinkServer.listen({ self: 'helper', port: 0, insecurePlaintext: true });
  const [h, c] = await Promise.all([srv.accept('client'), connectLink({ self: 'client', peer: 'helper', port: srv.port, insecurePlaintext: true })]);
  const pending = c.recv('correction');
  const t0 = Date.now();
  (h as unknown as { transport: { destroy(): void } }).transport.destroy(); // the helper's socket dies
  const e = await settle(pending);
  assert.instance(e, LinkClosedError);
  assert.match((e as Error).message, /link to helper .* closed/);
  assert.ok(Date.now() - t0 < 2000);
  await srv.close();
});

test('TLS 1.3 with mutual authentication connects parties of the deployment CA', async () => {
  const { srv, accepted, connected } = await pair(creds('server'), creds('client'));
  const [s, c] = await Promise.all([accepted, connected]);
  c.send('hi', new Uint8Array([5]));
  assert.equal([...(await s.recv('hi'))], [5]);
  const sock = (c as unknown as { transport: { socket: import('node:tls').TLSSocket } }).transport.socket;
  assert.is(sock.getProtocol(), 'TLSv1.3');
  c.close();
  s.close();
  await srv.close();
});

test('TLS refuses a client whose certificate is from another CA', async () => {
  const { srv, accepted, connected } = await pair(creds('server'), creds('client', other));
  const [a, b] = await Promise.all([settle(accepted), settle(connected)]);
  assert.instance(a, LinkClosedError);
  assert.match((a as Error).message, /client did not connect to server .* refused: TLS handshake refused/);
  assert.instance(b, LinkClosedError);
  assert.match((b as Error).message, /server at 127\.0\.0\.1:\d+ refused the connection/);
  await srv.close();
});

test('TLS refuses a server whose certificate is from another CA', async () => {
  const { srv, accepted, connected } = await pair(creds('server', other), creds('client'));
  const b = await settle(connected);
  assert.instance(b, LinkClosedError);
  assert.match((b as Error).message, /cannot connect to server at .*: (unable to verify|self.signed|certificate)/i);
  await settle(accepted);
  await srv.close();
});

test('TLS refuses a party claiming another role, and a server with the wrong role', async () => {
  // The client has a valid certificate for "client" but says it is the helper.
  const { srv, accepted, connected } = await pair(creds('server'), creds('client'), { s: 'server', c: 'client', claim: 'helper' });
  const [a, b] = await Promise.all([settle(accepted), settle(connected)]);
  assert.match((a as Error).message, /claims to be "helper" but its certificate is for "client"/);
  assert.instance(b, LinkClosedError);
  await srv.close();
  // A listener whose certificate says "helper" is not the server the client wants.
  const srv2 = await LinkServer.listen({ self: 'server', port: 0, tls: creds('helper') });
  const e = await settle(connectLink({ self: 'client', peer: 'server', port: srv2.port, tls: creds('client'), connectTimeoutMs: 2000 }));
  assert.match((e as Error).message, /presented a certificate for "helper", expected "server"/);
  await srv2.close();
});

test('TLS refuses an expired client certificate and an expired server certificate', async () => {
  const expired = (role: string): TlsCredentials => ({ ca: ca.cert, ...issueCert(ca, { role, days: 1, validFrom: new Date(Date.now() - 3 * 86_400_000) }) });
  assert.ok(new Date(new X509Certificate(expired('client').cert).validTo) < new Date());
  const one = await pair(creds('server'), expired('client'));
  const [a, b] = await Promise.all([settle(one.accepted), settle(one.connected)]);
  assert.match((a as Error).message, /client did not connect to server .* refused: TLS handshake refused/);
  assert.instance(b, LinkClosedError);
  await one.srv.close();
  const two = await pair(expired('server'), creds('client'));
  const c = await settle(two.connected);
  assert.match((c as Error).message, /cannot connect to server at .*: certificate has expired/i);
  await settle(two.accepted);
  await two.srv.close();
});

test('TLS refuses a client that presents no certificate', async () => {
  const srv = await LinkServer.listen({ self: 'server', port: 0, tls: creds('server'), helloTimeoutMs: 2000 });
  const accepted = settle(srv.accept('client', { timeoutMs: 2000 }));
  const closed = await new Promise<string>((resolve) => {
    const sock = tls.connect({ port: srv.port, host: '127.0.0.1', ca: ca.cert, servername: 'localhost', checkServerIdentity: () => undefined });
    sock.on('error', (e) => resolve(`error: ${e.message}`));
    sock.on('secureConnect', () => sock.write(new Uint8Array(64)));
    sock.on('close', () => resolve('closed'));
  });
  assert.ok(closed === 'closed' || /certificate required|alert|reset|ECONNRESET/i.test(closed), closed);
  assert.match(((await accepted) as Error).message, /client did not connect/);
  assert.ok(srv.refused.some((r) => /certificate|handshake/i.test(r.message)), srv.refused.map((r) => r.message).join("; "));
  await srv.close();
});

test('a plain TCP client on a TLS port gets nowhere, and the server says why', async () => {
  const srv = await LinkServer.listen({ self: 'server', port: 0, tls: creds('server') });
  const accepted = settle(srv.accept('client', { timeoutMs: 1500 }));
  const e = await settle(connectLink({ self: 'client', peer: 'server', port: srv.port, connectTimeoutMs: 1500, insecurePlaintext: true }));
  assert.instance(e, LinkClosedError);
  const a = await accepted;
  assert.match((a as Error).message, /client did not connect/);
  assert.ok(srv.refused.length > 0);
  await srv.close();
});

test('garbage and oversize frames close the connection', async () => {
  const srv = await LinkServer.listen({ self: 'server', port: 0, link: { maxPayload: 1000 }, insecurePlaintext: true });
  // Garbage instead of a hello.
  const raw = net.connect({ port: srv.port, host: '127.0.0.1' });
  await new Promise((r) => raw.once('connect', r));
  raw.write('GET / HTTP/1.1\r\n\r\n');
  await new Promise((r) => raw.once('close', r));
  assert.match(srv.refused.map((e) => e.message).join('\n'), /bad frame magic/);
  // An oversize frame after a good hello.
  const [s, c] = await Promise.all([srv.accept('client'), connectLink({ self: 'client', peer: 'server', port: srv.port, insecurePlaintext: true })]);
  const pending = settle(s.recv('x'));
  (c as unknown as { transport: { write(p: Uint8Array[]): void } }).transport.write([encodeHeader('x', [], 5000)]);
  const e = await pending;
  assert.match((e as Error).message, /malformed data from client: frame of 5000 bytes is over the limit of 1000 bytes/);
  await settle(c.recv('y')).then((x) => assert.instance(x, LinkClosedError));
  await srv.close();
});

test('certificates: CA flag, roles, validity well beyond a month, OpenSSL-compatible chain', () => {
  const caX = new X509Certificate(ca.cert);
  const p = issueCert(ca, { role: 'helper', hosts: ['p2.example', '10.0.0.3'] });
  const x = new X509Certificate(p.cert);
  assert.ok(caX.ca);
  assert.not.ok(x.ca);
  assert.ok(x.verify(caX.publicKey));
  assert.ok(x.checkIssued(caX));
  assert.not.ok(x.verify(new X509Certificate(other.cert).publicKey));
  assert.match(x.subject, /CN=helper/);
  assert.is(x.subjectAltName, 'DNS:p2.example, IP Address:10.0.0.3');
  const days = (Date.parse(x.validTo) - Date.now()) / 86_400_000;
  assert.ok(days > 700, `valid ${days} days`);
  assert.ok(Date.parse(x.validFrom) < Date.now());
  assert.throws(() => issueCert(ca, { role: 'bad role!' }), /"role" expected/);
  assert.throws(() => createCA({ days: 0 }), /"days" expected/);
});

/** Asserts that fn throws or rejects with a message matching re. */
async function rejects(fn: () => Promise<unknown>, re: RegExp): Promise<void> {
  const e = await Promise.resolve().then(fn).then(() => null, (err: Error) => err);
  assert.ok(e, `expected an error matching ${re}`);
  assert.match(e!.message, re);
}

test('no silent plaintext: without TLS credentials a link needs insecurePlaintext, and only on loopback', async () => {
  await rejects(() => LinkServer.listen({ self: 'server', port: 0 }), /server listening: TLS credentials are required .*insecurePlaintext: true/);
  await rejects(() => connectLink({ self: 'client', peer: 'server', port: 1 }), /client connecting to server at 127\.0\.0\.1:1: TLS credentials are required/);
  await rejects(() => connectLink({ self: 'client', peer: 'server', host: '10.1.2.3', port: 1, insecurePlaintext: true }), /insecurePlaintext is refused for 10\.1\.2\.3: plain TCP only on a loopback address/);
  await rejects(() => LinkServer.listen({ self: 'server', host: '0.0.0.0', port: 0, insecurePlaintext: true }), /insecurePlaintext is refused for 0\.0\.0\.0/);
  for (const h of ['127.0.0.1', '127.5.6.7', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) assert.ok(isLoopback(h), h);
  for (const h of ['10.0.0.1', '0.0.0.0', '::', 'example.org', '128.0.0.1']) assert.not.ok(isLoopback(h), h);
});

/** A listener that misbehaves: accepts TCP and then `act` on each socket. */
async function rogue(act: (s: net.Socket) => void): Promise<{ port: number; close(): void }> {
  const socks: net.Socket[] = [];
  const srv = net.createServer((s) => (socks.push(s), s.on('error', () => {}), act(s)));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { port: (srv.address() as net.AddressInfo).port, close: () => (socks.forEach((s) => s.destroy()), srv.close()) };
}

test('connect-time faults: a silent acceptor, garbage instead of TLS, a TLS peer that never says hello, garbage after the handshake: each fails within the connect timeout, naming the peer and the stage', async () => {
  const timeout = 1200;
  const expectFail = async (port: number, re: RegExp) => {
    const t0 = Date.now();
    const e = await settle(connectLink({ self: 'client', peer: 'server', port, tls: creds('client'), connectTimeoutMs: timeout }));
    const ms = Date.now() - t0;
    assert.instance(e, LinkClosedError);
    assert.match((e as Error).message, re);
    assert.ok(ms < timeout + 1500, `took ${ms} ms`);
  };
  const silent = await rogue(() => {});
  await expectFail(silent.port, /cannot connect to server at 127\.0\.0\.1:\d+: no TLS handshake within \d+ ms \(the connection was accepted, then nothing\)/);
  silent.close();
  const garbage = await rogue((s) => s.write('HTTP/1.1 400 Bad Request\r\n\r\n'));
  await expectFail(garbage.port, /cannot connect to server at 127\.0\.0\.1:\d+: .*(wrong version|packet length|SSL|TLS)/i);
  garbage.close();
  // A real TLS server with the server's certificate that then says nothing, or sends garbage.
  const tlsRogue = async (after: (s: tls.TLSSocket) => void) => {
    const srv = tls.createServer({ ...creds('server'), requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' }, (s) => (s.on('error', () => {}), after(s)));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    return { port: (srv.address() as net.AddressInfo).port, close: () => srv.close() };
  };
  const mute = await tlsRogue(() => {});
  await expectFail(mute.port, /server at 127\.0\.0\.1:\d+ completed the TLS handshake but sent no hello within the connect timeout/);
  mute.close();
  const noisy = await tlsRogue((s) => s.write('\x00\x01garbage after the handshake, not a frame at all'));
  await expectFail(noisy.port, /server at 127\.0\.0\.1:\d+ refused the connection \(bad hello from server .*bad frame magic|refused the connection/);
  noisy.close();
});

test('the listener drops connectors that never finish TLS or never say hello, and keeps accepting; refusals are capped', async () => {
  const srv = await LinkServer.listen({ self: 'server', port: 0, tls: creds('server'), helloTimeoutMs: 500 });
  // Three connections that stop: TCP only, and two floods of garbage.
  const closed = [false, false, false];
  [0, 1, 2].forEach((i) => {
    const r = net.connect({ port: srv.port, host: '127.0.0.1' });
    r.on('error', () => {});
    r.on('close', () => (closed[i] = true));
    r.resume();
    if (i > 0) r.on('connect', () => r.write(Buffer.alloc(64, i)));
  });
  await new Promise((r) => setTimeout(r, 1200));
  assert.equal(closed, [true, true, true], 'the listener closed every stuck connection');
  // A real client still gets through.
  const [s, c] = await Promise.all([srv.accept('client', { timeoutMs: 3000 }), connectLink({ self: 'client', peer: 'server', port: srv.port, tls: creds('client'), connectTimeoutMs: 3000 })]);
  c.send('ok', new Uint8Array([7]));
  assert.equal([...(await s.recv('ok'))], [7]);
  c.close();
  s.close();
  // A flood of bad connections: the listener keeps the last 32 and counts the rest.
  await Promise.all(Array.from({ length: 60 }, () => new Promise<void>((resolve) => {
    const r = net.connect({ port: srv.port, host: '127.0.0.1' }, () => r.write('not TLS'));
    r.on('error', () => resolve());
    r.on('close', () => resolve());
  })));
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(srv.refused.length <= 32, `${srv.refused.length} kept`);
  assert.ok(srv.refused.length + srv.refusedUnlisted >= 60, `${srv.refused.length} + ${srv.refusedUnlisted}`);
  await srv.close();
});

test('channel binding: both ends of a TLS link compute the same bytes, another connection other bytes; none in plain TCP', async () => {
  const one = await pair(creds('server'), creds('client'));
  const [s1, c1] = await Promise.all([one.accepted, one.connected]);
  const two = await pair(creds('server'), creds('client'));
  const [s2, c2] = await Promise.all([two.accepted, two.connected]);
  assert.is(c1.channelBinding!.length, 32);
  assert.equal([...c1.channelBinding!], [...s1.channelBinding!]);
  assert.not.equal([...c1.channelBinding!], [...c2.channelBinding!]);
  assert.equal([...c2.channelBinding!], [...s2.channelBinding!]);
  for (const l of [s1, c1, s2, c2]) l.close();
  await one.srv.close();
  await two.srv.close();
});

test('greeted peers: a role the listener does not expect is refused; one not accepted in time is dropped; a newer connection of a role replaces an older one', async () => {
  const srv = await LinkServer.listen({ self: 'server', port: 0, tls: creds('server'), peers: ['client'], acceptWindowMs: 400 });
  const e = await settle(connectLink({ self: 'helper', peer: 'server', port: srv.port, tls: creds('helper'), connectTimeoutMs: 1500 }));
  assert.instance(e, LinkClosedError);
  assert.match(srv.refused.map((r) => r.message).join('; '), /says it is "helper", which is not a peer of "server" \(client\)/);
  // Parked, never accepted: dropped after the window.
  const early = await connectLink({ self: 'client', peer: 'server', port: srv.port, tls: creds('client'), connectTimeoutMs: 1500 });
  await new Promise((r) => setTimeout(r, 700));
  assert.match(srv.refused.map((r) => r.message).join('; '), /"client" at .* was not accepted within 400 ms/);
  assert.instance(await settle(early.recv('x')), LinkClosedError);
  // Two connections as the client before an accept: the newer one is the link.
  const first = await connectLink({ self: 'client', peer: 'server', port: srv.port, tls: creds('client'), connectTimeoutMs: 1500 });
  const second = await connectLink({ self: 'client', peer: 'server', port: srv.port, tls: creds('client'), connectTimeoutMs: 1500 });
  const s = await srv.accept('client', { timeoutMs: 1500 });
  second.send('hi', new Uint8Array([2]));
  assert.equal([...(await s.recv('hi'))], [2]);
  assert.match(srv.refused.map((r) => r.message).join('; '), /was replaced by a newer connection/);
  assert.instance(await settle(first.recv('x')), LinkClosedError);
  for (const l of [s, second]) l.close();
  await srv.close();
});

test('service listeners: each greeted peer goes to onIncoming, which accepts with a session id or refuses with a reason', async () => {
  const seen: Incoming[] = [];
  const srv = await LinkServer.listen({
    self: 'server', port: 0, tls: creds('server'), peers: ['client'],
    onIncoming: (peer) => {
      seen.push(peer);
      if (peer.session === 'new') peer.accept('s-1').send('hi', new Uint8Array([7]));
      else peer.refuse('busy: come back later', true);
    },
  });
  const ok = await connectSession({ self: 'client', peer: 'server', port: srv.port, tls: creds('client'), session: 'new', connectTimeoutMs: 3000 });
  assert.is(ok.session, 's-1');
  assert.equal([...(await ok.link.recv('hi'))], [7]);
  assert.is(seen[0]!.authenticated, true);
  const no = await settle(connectSession({ self: 'client', peer: 'server', port: srv.port, tls: creds('client'), session: 'join-x', connectTimeoutMs: 3000 }));
  assert.instance(no, RefusedError);
  assert.match((no as Error).message, /refused: busy: come back later/);
  assert.is((no as RefusedError).retry, true);
  assert.is(seen[1]!.session, 'join-x');
  ok.link.close();
  await srv.close();
});

test('anonymous roles: a public client connects without a certificate; every other role still needs one', async () => {
  const got: Incoming[] = [];
  const srv = await LinkServer.listen({ self: 'helper', port: 0, tls: creds('helper'), peers: ['client', 'server'], anonymous: ['client'], onIncoming: (p) => (got.push(p), p.accept(undefined)) });
  const anon = { anonymous: true as const, ca: ca.cert };
  const c = await connectSession({ self: 'client', peer: 'helper', port: srv.port, tls: anon, connectTimeoutMs: 3000 });
  assert.is(got[0]!.from, 'client');
  assert.is(got[0]!.authenticated, false);
  assert.ok(c.link.channelBinding && c.link.channelBinding.length === 32, 'keys can still be bound to the TLS session');
  const s = await settle(connectSession({ self: 'server', peer: 'helper', port: srv.port, tls: anon, connectTimeoutMs: 2000 }));
  assert.instance(s, LinkClosedError);
  await new Promise((r) => setTimeout(r, 100));
  assert.match(srv.refused.map((e) => e.message).join('\n'), /claims to be "server" without a certificate of the deployment CA/);
  // A certificate of another CA does not pass as the server either.
  const forged = await settle(connectSession({ self: 'server', peer: 'helper', port: srv.port, tls: { ...creds('server', other), ca: ca.cert }, connectTimeoutMs: 2000 }));
  assert.instance(forged, LinkClosedError);
  assert.is(got.length, 1);
  // And the anonymous client checks the service: a helper certificate from another CA is refused.
  const fake = await LinkServer.listen({ self: 'helper', port: 0, tls: { ...creds('helper', other), ca: other.cert }, anonymous: ['client'], onIncoming: (p) => p.accept(undefined) });
  assert.instance(await settle(connectSession({ self: 'client', peer: 'helper', port: fake.port, tls: anon, connectTimeoutMs: 2000 })), LinkClosedError);
  c.link.close();
  await srv.close();
  await fake.close();
});

test.run();
