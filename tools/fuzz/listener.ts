// The listener as a fuzz target: an unauthenticated connector sends random bytes, or random frames that
// look valid (hellos with mutated JSON, other tags, lying lengths, truncated), to a LinkServer on a TLS
// port and on a plain-TCP loopback port. Pass: every such connection is refused and logged (`refused`
// grows, capped), nothing is thrown or left unhandled in the process, no connection stays open past the
// hello timeout, and a real peer still connects afterwards.
import net from 'node:net';
import seedrandom from 'seedrandom';
import { connectLink, createCA, encodeHeader, issueCert, LinkServer } from '@si/net';
import { mutateBytes, mutateJson, type Rng } from './targets.ts';

export interface ListenerResult {
  target: string;
  inputs: number;
  refusedLogged: number;
  /** Unhandled errors or rejections, connections left open, or a real peer refused afterwards. */
  failures: number;
  examples: string[];
  seconds: number;
}

const int = (r: Rng, n: number) => Math.floor(r() * n);

function input(r: Rng): Uint8Array {
  const kind = int(r, 4);
  if (kind === 0) return Uint8Array.from({ length: 1 + int(r, 600) }, () => int(r, 256));
  // Never the role the listener waits for (a valid hello from it would be a real peer, kept for accept()).
  const hello = JSON.stringify({ proto: 'si/1', from: ['server', 'helper', 'x', ''][int(r, 4)], to: ['server', 'helper', 'server'][int(r, 3)] });
  const body = new TextEncoder().encode(kind === 1 ? mutateJson(hello, r) : hello);
  const tag = kind === 2 ? ['si-hello', 'si-bye', 'x', 'si-abort'][int(r, 4)]! : 'si-hello';
  const frame = new Uint8Array([...encodeHeader(tag, [], body.length), ...body]);
  // Lying or truncated frames: mutate the bytes.
  return kind === 3 ? mutateBytes(frame, r) : frame;
}

/** Sends one input over a fresh TCP connection; resolves when the listener closes it (or after `wait` ms: still open). */
function send(port: number, bytes: Uint8Array, wait: number): Promise<'closed' | 'open'> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' }, () => s.write(bytes));
    const timer = setTimeout(() => (s.destroy(), resolve('open')), wait);
    s.on('error', () => {});
    s.on('close', () => (clearTimeout(timer), resolve('closed')));
    s.resume();
  });
}

export async function fuzzListener(count: number, seed: string): Promise<ListenerResult[]> {
  const ca = createCA({ name: 'fuzz CA', days: 1 });
  const creds = (role: string) => ({ ca: ca.cert, ...issueCert(ca, { role, days: 1 }) });
  const out: ListenerResult[] = [];
  for (const tls of [true, false]) {
    const res: ListenerResult = { target: `listener (${tls ? 'TLS' : 'plain TCP on loopback'})`, inputs: 0, refusedLogged: 0, failures: 0, examples: [], seconds: 0 };
    const fail = (what: string) => (res.failures++, res.examples.length < 5 && res.examples.push(what));
    const onUnhandled = (e: unknown) => fail(`unhandled: ${String((e as Error)?.stack ?? e).split('\n').slice(0, 2).join(' | ')}`);
    process.on('unhandledRejection', onUnhandled);
    process.on('uncaughtException', onUnhandled);
    const helloTimeoutMs = 300;
    const srv = await LinkServer.listen({ self: 'server', port: 0, helloTimeoutMs, peers: ['client'], ...(tls ? { tls: creds('server') } : { insecurePlaintext: true }) });
    const r = seedrandom(`${seed}/listener/${tls}`);
    const t0 = performance.now();
    try {
      // A few at a time, as a flood would come.
      for (let i = 0; i < count; i += 8) {
        const batch = Array.from({ length: Math.min(8, count - i) }, () => input(r));
        const ends = await Promise.all(batch.map((b) => send(srv.port, b, helloTimeoutMs * 4)));
        res.inputs += batch.length;
        ends.forEach((e, k) => e === 'open' && fail(`connection left open past the hello timeout: ${Buffer.from(batch[k]!.subarray(0, 64)).toString('base64')}`));
      }
      res.refusedLogged = srv.refused.length + srv.refusedUnlisted;
      if (srv.refused.length > 32) fail(`${srv.refused.length} refusals kept (the cap is 32)`);
      // A real peer still gets through.
      const [s, c] = await Promise.all([
        srv.accept('client', { timeoutMs: 5000 }),
        connectLink({ self: 'client', peer: 'server', port: srv.port, connectTimeoutMs: 5000, ...(tls ? { tls: creds('client') } : { insecurePlaintext: true }) }),
      ]);
      c.send('ping', new Uint8Array([1]));
      if ((await s.recv('ping'))[0] !== 1) fail('the real peer\'s message did not arrive');
      c.close();
      s.close();
    } catch (e) {
      fail(`the listener stopped working: ${(e as Error).message}`);
    } finally {
      await srv.close();
      process.off('unhandledRejection', onUnhandled);
      process.off('uncaughtException', onUnhandled);
      res.seconds = (performance.now() - t0) / 1000;
    }
    out.push(res);
  }
  return out;
}
