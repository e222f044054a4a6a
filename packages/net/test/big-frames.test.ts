// Frames larger than the receive queue's limit (256 MiB) between two real processes over TLS: accepted
// when a receive waits for them (before or after they start arriving), refused at the header when the
// declared size is not what the receive expects, and never buffered twice.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createCA, issueCert, LinkServer, ProtocolError, type Link } from '../src/index.ts';

const ca = createCA();
const sender = fileURLToPath(new URL('./fixtures/sender.ts', import.meta.url));
const MIB = 300;

/** Runs the sender process with a plan and hands the accepted link to `fn`. */
async function withSender(plan: string[], fn: (l: Link) => Promise<void>): Promise<void> {
  const srv = await LinkServer.listen({ self: 'server', port: 0, tls: { ca: ca.cert, ...issueCert(ca, { role: 'server' }) }, peers: ['client'] });
  const creds = Buffer.from(JSON.stringify({ ca: ca.cert, ...issueCert(ca, { role: 'client' }) })).toString('base64');
  const child = spawn(process.execPath, [...process.execArgv, sender, String(srv.port), creds, ...plan], { stdio: ['ignore', 'inherit', 'inherit'] });
  const exited = new Promise<number | null>((r) => child.on('exit', r));
  try {
    const l = await srv.accept('client', { timeoutMs: 20_000 });
    await fn(l);
    if (!l.closed) l.send('done', new Uint8Array(0));
  } finally {
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([exited, new Promise<'hung'>((r) => (timer = setTimeout(() => r('hung'), 20_000)))]);
    clearTimeout(timer);
    if (code === 'hung') child.kill('SIGKILL');
    await srv.close();
  }
}

const check = (got: Uint8Array) => {
  assert.is(got.length, MIB * 2 ** 20);
  for (let i = 0; i < got.length; i += 4096) if (got[i] !== (i * 2654435761) >>> 24) assert.unreachable(`byte ${i}`);
  assert.is(got.byteOffset % 8, 0, 'aligned');
};

test(`a ${MIB} MiB message over TLS from another process: the receive waits first`, async () => {
  await withSender([`frame:big:${MIB}`, 'frame:after:1'], async (l) => {
    check(await l.recv('big', MIB * 2 ** 20));
    assert.is((await l.recv('after')).length, 2 ** 20);
  });
});

test(`a ${MIB} MiB message that arrives before anything waits for it: reading pauses at the queue limit, the late receive takes it`, async () => {
  await withSender([`frame:big:${MIB}`], async (l) => {
    await new Promise((r) => setTimeout(r, 3000)); // the sender has written it all by now; we read 256 MiB and paused
    check(await l.recv('big', MIB * 2 ** 20));
  });
});

test('a frame declaring a size the receive does not expect is refused at its header (the payload never comes)', async () => {
  await withSender([`header:small:${MIB * 2 ** 20}`], async (l) => {
    const t0 = Date.now();
    const e = await l.recv('small', 64).then(() => null, (x: Error) => x);
    assert.instance(e, ProtocolError);
    assert.match(e!.message, new RegExp(`message "small" from client has ${MIB * 2 ** 20} bytes, expected 64 \\(refused at its header, before the payload\\)`));
    assert.ok(Date.now() - t0 < 10_000, 'no wait for the payload or a timeout');
  });
});

test.run();
