import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Ledger, LinkClosedError, LinkTimeoutError, memoryLinkPair, ProtocolError, type Scope } from '../src/index.ts';

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

test('a wrong size is a protocol error that closes the link on both sides; an unread message while waiting is out of step', async () => {
  const [e1, e2] = memoryLinkPair('client', 'server');
  e1.send('E', new Uint8Array(16));
  try {
    await e2.recv('E', 8);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, ProtocolError);
    assert.match((e as Error).message, /message "E" from client has 16 bytes, expected 8/);
  }
  assert.ok(e2.closed);
  try {
    await e1.recv('anything');
    assert.unreachable();
  } catch (e) {
    assert.instance(e, LinkClosedError);
    assert.match((e as Error).message, /link to server .* closed: connection reset by peer/);
  }
  // The peer is alive (keepalives) but sent "E" where "F" is awaited: after the timeout, out of step.
  const [c, d] = memoryLinkPair('client', 'server', { a: { timeoutMs: 80 }, b: { timeoutMs: 80 } });
  c.send('E', new Uint8Array(8));
  const t0 = Date.now();
  const err = await d.recv('F').then(() => null, (x: Error) => x);
  assert.instance(err, ProtocolError);
  assert.match(err!.message, /for message "F" from client while its message "E" \(8 bytes\) waits unread: the parties are out of step/);
  assert.ok(Date.now() - t0 < 1000);
  c.close();
});

test('messages travel on their scope\'s channel: concurrent sibling scopes do not take each other\'s messages', async () => {
  const la = new Ledger(), lb = new Ledger();
  const [a, b] = memoryLinkPair('client', 'server', { a: { ledger: la }, b: { ledger: lb } });
  // The sender sends "v" on channel "two" before "one"; the receiver asks for "one" first.
  await la.scope('two', (s) => a.send('v', Uint8Array.of(2), s));
  await la.scope('one', (s) => a.send('v', Uint8Array.of(1), s));
  const [one, two] = await Promise.all([lb.scope('one', (s) => b.recv('v', 1, s)), lb.scope('two', (s) => b.recv('v', 1, s))]);
  assert.equal([one[0], two[0]], [1, 2]);
  // On one channel, one tag keeps its order.
  await la.scope('c', (s) => (a.send('t', Uint8Array.of(1), s), a.send('t', Uint8Array.of(2), s)));
  const got = await lb.scope('c', async (s) => [(await b.recv('t', 1, s))[0], (await b.recv('t', 1, s))[0]]);
  assert.equal(got, [1, 2]);
  // A channel view binds a scope.
  await la.scope('d', (s) => a.at(s).send('w', Uint8Array.of(7)));
  assert.equal([...(await lb.scope('d', (s) => b.at(s).recv('w')))], [7]);
  // Two running siblings with one label would share a channel: refused.
  const err = await Promise.all([la.scope('x', () => new Promise((r) => setTimeout(r, 5))), la.scope('x', () => 1)]).then(() => null, (e: Error) => e);
  assert.match(err!.message, /scope "x" is already running in the root scope: protocols that run concurrently need sibling scopes with distinct labels/);
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
    la.scope('setup-keys', (s) => a.send('k', new Uint8Array(32), s), { phase: 'setup' }),
    lb.scope('setup-keys', (s) => b.recv('k', undefined, s), { phase: 'setup' }),
  ]);
  // An exchange is one round; a reply to a reply is two more.
  await Promise.all([
    la.scope('layer1', async (l) => {
      await l.scope('mul', (s) => a.exchange('EF', new Uint8Array(16), undefined, s));
      await l.scope('pingpong', async (s) => {
        a.send('ping', new Uint8Array(8), s);
        await a.recv('pong', undefined, s);
      });
    }),
    lb.scope('layer1', async (l) => {
      await l.scope('mul', (s) => b.exchange('EF', new Uint8Array(16), undefined, s));
      await l.scope('pingpong', async (s) => {
        await b.recv('ping', undefined, s);
        b.send('pong', new Uint8Array(24), s);
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
  // The whole online run (the setup phase's round counts in its own row, not in the root's).
  assert.is(la.depth, 3);
  assert.is(rowsB['setup:setup-keys']!.rounds, 1);
  assert.equal(la.totals({ phase: 'online' }), { sent: 24, received: 40, messages: 2, overhead: 2 * 16 + 'EF'.length + 'ping'.length + 'layer1/mul'.length + 'layer1/pingpong'.length + 2 * 3 * 4 });
  assert.equal(la.totals({ prefix: 'layer1/mul' }).sent, 16);
  assert.equal(la.totals({ phase: 'setup' }).sent, 32);
  la.reset();
  assert.equal(la.rows(), []);
  assert.is(la.depth, 0);
});

test('scopes attribute concurrent async work; siblings compose in parallel (rounds take the maximum)', async () => {
  const la = new Ledger(), lb = new Ledger();
  const [a, b] = memoryLinkPair('client', 'server', { a: { ledger: la }, b: { ledger: lb } });
  await Promise.all([
    la.scope('first', async (s) => {
      await new Promise((r) => setTimeout(r, 10));
      a.send('m1', new Uint8Array(10), s);
    }),
    la.scope('second', (s) => a.send('m2', new Uint8Array(20), s)),
  ]);
  await lb.scope('second', (s) => b.recv('m2', undefined, s));
  await lb.scope('first', (s) => b.recv('m1', undefined, s));
  const sent = Object.fromEntries(la.rows().map((r) => [r.label, r.sent['server']]));
  assert.equal(sent, { first: 10, second: 20 });
  // Two ping-pongs (two rounds each) in sibling scopes: the parent has two rounds, not four.
  const pingpong = (me: typeof a, first: boolean) => async (s: Scope): Promise<void> => {
    if (first) {
      me.send('p', new Uint8Array(1), s);
      await me.recv('q', 1, s);
    } else {
      await me.recv('p', 1, s);
      me.send('q', new Uint8Array(1), s);
    }
  };
  await Promise.all([
    la.scope('par', (s) => Promise.all([s.scope('x', pingpong(a, true)), s.scope('y', pingpong(a, true))])),
    lb.scope('par', (s) => Promise.all([s.scope('y', pingpong(b, false)), s.scope('x', pingpong(b, false))])),
  ]);
  assert.is(la.rows().find((r) => r.label === 'par')!.rounds, 2);
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
