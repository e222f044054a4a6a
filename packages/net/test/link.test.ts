import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Ledger, LinkClosedError, LinkTimeoutError, memoryLinkPair, ProtocolError } from '../src/index.ts';

test('messages arrive in order with their bytes; typed payloads; exchange', async () => {
  const [a, b] = memoryLinkPair('client', 'server');
  a.send('one', new Uint8Array([1, 2, 3]));
  a.send('two', [new Uint32Array([0xdeadbeef]), new Uint8Array([7])]);
  a.send('i64', BigInt64Array.of(-1n, 2n ** 62n));
  assert.equal([...(await b.recv('one', 3))], [1, 2, 3]);
  assert.equal([...(await b.recv('two'))], [0xef, 0xbe, 0xad, 0xde, 7]);
  assert.equal([...(await b.recvI64('i64', 2))], [-1n, 2n ** 62n]);
  const [x, y] = await Promise.all([a.exchangeI64('swap', BigInt64Array.of(5n)), b.exchangeI64('swap', BigInt64Array.of(6n))]);
  assert.equal([x[0], y[0]], [6n, 5n]);
});

test('a later change to the sent buffer does not reach the receiver', async () => {
  const [a, b] = memoryLinkPair('client', 'server');
  const buf = new Uint8Array([1, 2, 3]);
  a.send('m', buf);
  buf[0] = 99;
  assert.equal([...(await b.recv('m'))], [1, 2, 3]);
});

test('a wrong tag or size is a protocol error that closes the link on both sides', async () => {
  const [c, d] = memoryLinkPair('client', 'server');
  c.send('E', new Uint8Array(8));
  try {
    await d.recv('F');
    assert.unreachable();
  } catch (e) {
    assert.instance(e, ProtocolError);
    assert.match((e as Error).message, /expected message "F" from client, got "E" \(8 bytes\): the parties are out of step/);
  }
  assert.ok(d.closed);
  try {
    await c.recv('anything');
    assert.unreachable();
  } catch (e) {
    assert.instance(e, LinkClosedError);
    assert.match((e as Error).message, /link to server .* closed: connection reset by peer/);
  }
  const [e1, e2] = memoryLinkPair('client', 'server');
  e1.send('E', new Uint8Array(16));
  try {
    await e2.recv('E', 8);
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /message "E" from client has 16 bytes, expected 8/);
  }
});

test('the peer ending the session rejects pending and future receives, naming it; queued messages still arrive', async () => {
  const [a, b] = memoryLinkPair('helper', 'server');
  const failures: Error[] = [];
  b.onFailure((e) => failures.push(e));
  const pending = [b.recv('x'), b.recv('y')];
  a.close();
  const errs = await Promise.all(pending.map((p) => p.then(() => null, (e: Error) => e)));
  for (const e of errs) {
    assert.instance(e, LinkClosedError);
    assert.is((e as LinkClosedError).peer, 'helper');
    assert.match(e!.message, /helper ended the session/);
  }
  const later = await b.recv('z').then(() => null, (e: Error) => e);
  assert.match(later!.message, /helper ended the session/);
  assert.throws(() => b.send('late', new Uint8Array(1)), /ended the session/);
  assert.equal(failures, [], 'a normal end is not a failure');
  const [c, d] = memoryLinkPair('helper', 'server');
  c.send('last', new Uint8Array([42]));
  c.close();
  assert.equal([...(await d.recv('last'))], [42]);
  await d.recv('more').then(() => assert.unreachable(), (e) => assert.instance(e, LinkClosedError));
});

test('a peer that dies or aborts is a failure; the abort carries its reason', async () => {
  const [a, b] = memoryLinkPair('helper', 'server');
  const failures: string[] = [];
  b.onFailure((e) => failures.push(e.message));
  const pending = b.recv('x').then(() => null, (e: Error) => e);
  (a as unknown as { transport: { destroy(e: Error): void } }).transport.destroy(new Error('killed'));
  assert.match((await pending)!.message, /link to helper \(memory server->helper\) closed: connection reset by peer/);
  assert.equal(failures.length, 1);
  const [c, d] = memoryLinkPair('client', 'server');
  const waiting = d.recv('E').then(() => null, (e: Error) => e);
  c.abort('client: link to helper closed by the peer');
  assert.match((await waiting)!.message, /^client aborted: client: link to helper closed by the peer$/);
  assert.throws(() => memoryLinkPair('a', 'b')[0].send('si-bye', new Uint8Array(0)), /"si-bye" is a reserved control tag/);
});

test('a receive that waits too long times out and closes the link', async () => {
  const [, b] = memoryLinkPair('client', 'server', { b: { timeoutMs: 50 } });
  const t0 = Date.now();
  try {
    await b.recv('never');
    assert.unreachable();
  } catch (e) {
    assert.instance(e, LinkTimeoutError);
    assert.match((e as Error).message, /no message "never" from client within 50 ms/);
  }
  assert.ok(Date.now() - t0 < 1000);
  assert.ok(b.closed);
});

test('a peer that is alive but quiet (waiting for someone else) does not time out; a silent one does', async () => {
  const [a, b] = memoryLinkPair('client', 'server', { a: { timeoutMs: 60 }, b: { timeoutMs: 60 } });
  const late = b.recv('late');
  setTimeout(() => a.send('late', new Uint8Array([1])), 250); // four timeouts later, keepalives meanwhile
  assert.equal([...(await late)], [1]);
  assert.is(b.ledger.rows().reduce((s, r) => s + Object.values(r.received).reduce((x, y) => x + y, 0), 0), 1, 'keepalives are not in the ledger');
  // Now the client stops sending anything (a stalled process): the server's receive times out.
  (a as unknown as { transport: { write(): void } }).transport.write = () => {};
  const t0 = Date.now();
  const e = await b.recv('never').catch((x: Error) => x);
  assert.instance(e, LinkTimeoutError);
  assert.match((e as Error).message, /nothing at all from the client: stalled or unreachable/);
  assert.ok(Date.now() - t0 < 1000);
  a.close();
});

test('the ledger records payload bytes per label, phase and peer, and rounds as causal depth', async () => {
  const la = new Ledger(), lb = new Ledger();
  const [a, b] = memoryLinkPair('client', 'server', { a: { ledger: la }, b: { ledger: lb } });
  await Promise.all([
    la.scope('setup-keys', () => a.send('k', new Uint8Array(32)), { phase: 'setup' }),
    lb.scope('setup-keys', () => b.recv('k'), { phase: 'setup' }),
  ]);
  // An exchange is one round; a reply to a reply is two more.
  await Promise.all([
    la.scope('layer1', async () => {
      await la.scope('mul', () => a.exchange('EF', new Uint8Array(16)));
      await la.scope('pingpong', async () => {
        a.send('ping', new Uint8Array(8));
        await a.recv('pong');
      });
    }),
    lb.scope('layer1', async () => {
      await lb.scope('mul', () => b.exchange('EF', new Uint8Array(16)));
      await lb.scope('pingpong', async () => {
        await b.recv('ping');
        b.send('pong', new Uint8Array(24));
      });
    }),
  ]);
  const rowsA = Object.fromEntries(la.rows().map((r) => [`${r.phase}:${r.label}`, r]));
  const rowsB = Object.fromEntries(lb.rows().map((r) => [`${r.phase}:${r.label}`, r]));
  assert.equal(rowsA['setup:setup-keys']!.sent, { server: 32 });
  assert.equal(rowsB['setup:setup-keys']!.received, { client: 32 });
  assert.equal(rowsA['online:layer1/mul']!.sent, { server: 16 });
  assert.equal(rowsA['online:layer1/mul']!.received, { server: 16 });
  assert.is(rowsA['online:layer1/mul']!.rounds, 1);
  assert.is(rowsB['online:layer1/mul']!.rounds, 1);
  assert.is(rowsA['online:layer1/pingpong']!.rounds, 2); // client sees the pong: depth 2
  assert.is(rowsB['online:layer1/pingpong']!.rounds, 1); // server saw only the ping
  assert.is(rowsA['online:layer1']!.rounds, 3); // sequential children add up
  assert.is(la.depth, 3);
  assert.equal(la.totals({ phase: 'online' }), { sent: 24, received: 40, messages: 2, overhead: 2 * 16 + 'EF'.length + 'ping'.length });
  assert.equal(la.totals({ prefix: 'layer1/mul' }).sent, 16);
  assert.equal(la.totals({ phase: 'setup' }).sent, 32);
  la.reset();
  assert.equal(la.rows(), []);
  assert.is(la.depth, 0);
});

test('scopes follow concurrent async work', async () => {
  const la = new Ledger();
  const [a, b] = memoryLinkPair('client', 'server', { a: { ledger: la } });
  await Promise.all([
    la.scope('first', async () => {
      await new Promise((r) => setTimeout(r, 10));
      a.send('m1', new Uint8Array(10));
    }),
    la.scope('second', () => a.send('m2', new Uint8Array(20))),
  ]);
  await b.recv('m2');
  await b.recv('m1');
  const sent = Object.fromEntries(la.rows().map((r) => [r.label, r.sent['server']]));
  assert.equal(sent, { first: 10, second: 20 });
  assert.is(await la.scope('ok', () => 1), 1);
  try {
    await la.scope('a/b', () => 1);
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /"label" expected a non-empty string without '\/'/);
  }
});

test('reading pauses once unread data passes the limit, and resumes as it is read', async () => {
  const [a, b] = memoryLinkPair('client', 'server', { b: { maxQueuedBytes: 1000 } });
  for (let i = 0; i < 10; i++) a.send(`m${i}`, new Uint8Array(400));
  await new Promise((r) => setTimeout(r, 20));
  const internals = b as unknown as { queuedBytes: number; paused: boolean };
  assert.ok(internals.paused, 'paused');
  assert.ok(internals.queuedBytes <= 1400, `queued ${internals.queuedBytes}`);
  for (let i = 0; i < 10; i++) assert.is((await b.recv(`m${i}`)).length, 400);
  assert.not.ok(internals.paused);
});

test.run();
