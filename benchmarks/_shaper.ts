// Shaped links for benchmarks: a user-space TCP relay on loopback that gives each direction of every
// connection through it a bottleneck of `bitsPerSecond` and a one-way delay of rttMs / 2 (full duplex, as
// a switched link). The parties' TLS runs end to end through it (the relay only moves bytes). The kernel's
// tc netem is not available here and tbf needs a network namespace per party; a relay needs neither, at
// the price of a timer's granularity (waits under 1 ms end at the next event-loop turn, so the LAN's
// 0.5 ms one-way delay is served early rather than late).
import net from 'node:net';
import { once } from 'node:events';

export interface Profile {
  name: string;
  bitsPerSecond: number;
  rttMs: number;
}

export const PROFILES: Record<string, Profile> = {
  lan: { name: 'lan', bitsPerSecond: 1e9, rttMs: 1 },
  // Cheetah's WAN setting.
  wan: { name: 'wan', bitsPerSecond: 400e6, rttMs: 40 },
};

/** Bytes queued in one direction before the sender is paused (backpressure, like a socket buffer). */
const QUEUE_LIMIT = 8 << 20;

/** Moves src's bytes to dst as the link would deliver them. */
function shape(src: net.Socket, dst: net.Socket, p: Profile): void {
  const queue: { at: number; data: Buffer }[] = [];
  let queued = 0, busyUntil = 0, timer: ReturnType<typeof setTimeout> | undefined, ended = false;
  const flush = () => {
    timer = undefined;
    const now = performance.now();
    while (queue.length && queue[0]!.at <= now + 1) {
      const q = queue.shift()!;
      queued -= q.data.length;
      dst.write(q.data);
    }
    if (queued < QUEUE_LIMIT / 2 && src.isPaused()) src.resume();
    if (queue.length) timer = later(queue[0]!.at - performance.now());
    else if (ended) dst.end();
  };
  // setTimeout waits at least a millisecond: shorter waits (the LAN's 0.5 ms) go to the next turn.
  const later = (ms: number) => (ms < 1 ? (setImmediate(flush) as unknown as ReturnType<typeof setTimeout>) : setTimeout(flush, ms));
  src.on('data', (d: Buffer) => {
    const now = performance.now();
    // Serialised at the bottleneck after what is already on it, then in flight for the one-way delay.
    busyUntil = Math.max(now, busyUntil) + (d.length * 8 * 1000) / p.bitsPerSecond;
    queue.push({ at: busyUntil + p.rttMs / 2, data: d });
    queued += d.length;
    if (queued > QUEUE_LIMIT) src.pause();
    timer ??= later(queue[0]!.at - performance.now());
  });
  src.on('end', () => ((ended = true), timer === undefined && queue.length === 0 && dst.end()));
  src.on('error', () => dst.destroy());
  src.on('close', () => queue.length === 0 && dst.destroy());
}

/** A relay on a free loopback port to 127.0.0.1:target through the profile. */
export async function shapedRelay(target: number, p: Profile): Promise<{ port: number; close(): void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((a) => {
    a.setNoDelay(true);
    const b = net.connect({ host: '127.0.0.1', port: target });
    b.setNoDelay(true);
    for (const s of [a, b]) (sockets.add(s), s.on('close', () => sockets.delete(s)));
    shape(a, b, p);
    shape(b, a, p);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      server.close();
      for (const s of sockets) s.destroy();
    },
  };
}
