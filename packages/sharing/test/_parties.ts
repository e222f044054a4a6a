// Test helpers: three parties in one process over memory or loopback TCP/TLS, seeded test data.
import seedrandom from 'seedrandom';
import { LinkServer, type TlsCredentials } from '@si/net';
import { RingTensor } from '@si/ring';
import { connectParty, localParties, type Party } from '../src/index.ts';

export type Trio = [Party, Party, Party];

export async function tcpParties(tls?: { client: TlsCredentials; server: TlsCredentials; helper: TlsCredentials }): Promise<Trio> {
  const serverL = await LinkServer.listen({ self: 'server', port: 0, tls: tls?.server });
  const helperL = await LinkServer.listen({ self: 'helper', port: 0, tls: tls?.helper });
  const deployment = { server: { host: '127.0.0.1', port: serverL.port }, helper: { host: '127.0.0.1', port: helperL.port } };
  try {
    return (await Promise.all([
      connectParty({ role: 'client', deployment, tls: tls?.client, connectTimeoutMs: 5000 }),
      connectParty({ role: 'server', deployment, tls: tls?.server, listener: serverL, connectTimeoutMs: 5000 }),
      connectParty({ role: 'helper', deployment, tls: tls?.helper, listener: helperL, connectTimeoutMs: 5000 }),
    ])) as Trio;
  } finally {
    await serverL.close();
    await helperL.close();
  }
}

export const TRANSPORTS: [string, () => Promise<Trio>][] = [
  ['memory', () => localParties()],
  ['tcp', () => tcpParties()],
];

/** Runs fn on the three parties concurrently. */
export function all<T>(ps: Trio, fn: (p: Party) => T | Promise<T>): Promise<[T, T, T]> {
  return Promise.all(ps.map((p) => fn(p))) as Promise<[T, T, T]>;
}

/** Runs fn on each party under the same ledger label. */
export function labeled<T>(ps: Trio, label: string, fn: (p: Party) => T | Promise<T>): Promise<[T, T, T]> {
  return all(ps, (p) => p.scope(label, () => fn(p)));
}

export const EDGES = [0n, 1n, -1n, 2n ** 62n, -(2n ** 62n), -(2n ** 63n), 2n ** 63n - 1n];

export function randomRing(seed: string, shape: number[], edgeRate = 0.2): RingTensor {
  const r = seedrandom(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new BigInt64Array(n);
  const w = new Int32Array(out.buffer);
  for (let i = 0; i < n; i++) {
    if (r() < edgeRate) out[i] = EDGES[Math.floor(r() * EDGES.length)]!;
    else (w[2 * i] = r.int32(), w[2 * i + 1] = r.int32());
  }
  return new RingTensor(out, shape);
}

/** Small signed values (|v| < 2^bits), as fixed-point activations are. */
export function smallRing(seed: string, shape: number[], bits = 20): RingTensor {
  const r = seedrandom(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return RingTensor.from(Array.from({ length: n }, () => Math.floor((r() * 2 - 1) * 2 ** bits)), shape);
}

export function closeAll(ps: Trio): void {
  for (const p of ps) p.close();
}
