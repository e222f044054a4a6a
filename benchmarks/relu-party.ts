// One party of the DReLU throughput benchmark (spawned by relu.ts): connects over loopback TLS 1.3 with
// mutual authentication (the certificates relu.ts made), as deployments do, then
// runs `reps` DReLUs of n elements in the given mode, each after a one-element barrier, and prints its
// times and the bytes it sent.
import { LinkServer } from '@si/net';
import { readCredentials } from '@si/cli';
import { RingTensor } from '@si/ring';
import { connectParty, reveal, shareInput, type Role } from '@si/sharing';
import { drelu, type DreluMode } from '@si/relu-protocols';
import { randomI64 } from './_harness.ts';

const [role, serverPort, helperPort, nArg, repsArg, modeArg, certs] = process.argv.slice(2) as [Role, string, string, string, string, string, string];
const n = Number(nArg), reps = Number(repsArg), mode = JSON.parse(modeArg) as DreluMode;
const tls = readCredentials(certs, role);
const listener = role === 'client' ? undefined : await LinkServer.listen({ self: role, port: 0, tls });
if (listener) console.log(JSON.stringify({ port: listener.port }));
const deployment = {
  server: { host: '127.0.0.1', port: role === 'server' ? listener!.port : Number(serverPort) },
  helper: { host: '127.0.0.1', port: role === 'helper' ? listener!.port : Number(helperPort) },
};
const p = await connectParty({ role, deployment, listener, tls, connectTimeoutMs: 30_000 });
await listener?.close();
// Activation-like inputs (the values do not change the cost).
const x = p.id === 0 ? new RingTensor(randomI64('relu-bench', n), [n]).shr(40) : undefined;
const xs = shareInput(p, 0, [n], x);
const one = shareInput(p, 0, [1], p.id === 0 ? RingTensor.from([1]) : undefined);
const times: number[] = [];
for (let r = -1; r < reps; r++) {
  await p.scope(`barrier${r + 1}`, (q) => reveal(q, one, 'both'));
  const t0 = performance.now();
  await p.scope(r < 0 ? 'warmup' : `rep${r}`, (q) => drelu(q, xs, mode));
  if (r >= 0) times.push((performance.now() - t0) / 1000);
}
const sent = p.ledger.totals({ prefix: 'rep0' }).sent;
console.log(JSON.stringify({ role, times, sent }));
p.close();
