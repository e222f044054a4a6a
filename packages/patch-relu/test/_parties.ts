// Test helpers: three parties over memory or loopback TCP, and seeded data.
import seedrandom from 'seedrandom';
import { LinkServer } from '@si/net';
import { RingTensor } from '@si/ring';
import { connectParty, localParties, shareInput, type Party, type Shared } from '@si/sharing';

export type Trio = [Party, Party, Party];

export async function tcpParties(): Promise<Trio> {
  const s = await LinkServer.listen({ self: 'server', port: 0 });
  const h = await LinkServer.listen({ self: 'helper', port: 0 });
  const deployment = { server: { host: '127.0.0.1', port: s.port }, helper: { host: '127.0.0.1', port: h.port } };
  try {
    return (await Promise.all([
      connectParty({ role: 'client', deployment }),
      connectParty({ role: 'server', deployment, listener: s }),
      connectParty({ role: 'helper', deployment, listener: h }),
    ])) as Trio;
  } finally {
    await s.close();
    await h.close();
  }
}

export const TRANSPORTS: [string, () => Promise<Trio>][] = [['memory', localParties], ['tcp', tcpParties]];

export function all<T>(ps: Trio, fn: (p: Party) => T | Promise<T>): Promise<[T, T, T]> {
  return Promise.all(ps.map((p) => fn(p))) as Promise<[T, T, T]>;
}

export function labeled<T>(ps: Trio, label: string, fn: (p: Party) => T | Promise<T>): Promise<[T, T, T]> {
  return all(ps, (p) => p.scope(label, () => fn(p)));
}

export async function share(ps: Trio, x: RingTensor): Promise<[Shared, Shared, Shared]> {
  return all(ps, (p) => shareInput(p, 0, x.shape, p.id === 0 ? x : undefined));
}

export const EDGES = [0n, -1n, 1n, 2n ** 62n, -(2n ** 62n), -(2n ** 63n), 2n ** 63n - 1n];

export function randomRing(seed: string, n: number, edgeRate = 0.1): RingTensor {
  const r = seedrandom(seed);
  const out = new BigInt64Array(n);
  const w = new Int32Array(out.buffer);
  for (let i = 0; i < n; i++) {
    if (r() < edgeRate) out[i] = EDGES[Math.floor(r() * EDGES.length)]!;
    else (w[2 * i] = r.int32(), w[2 * i + 1] = r.int32());
  }
  return new RingTensor(out, [n]);
}

/** Activation-like values: mostly small, both signs, some large. */
export function activations(seed: string, n: number, scaleBits = 20): RingTensor {
  const r = seedrandom(seed);
  return RingTensor.from(Array.from({ length: n }, () => Math.round((r() - 0.5) * 2 ** (scaleBits * r()))), [n]);
}

export function closeAll(ps: Trio): void {
  for (const p of ps) p.close();
}
