/**
 * In-memory transport: two endpoints in one process, for tests and the single-process oracle. It goes
 * through the same Link (framing, ledger, errors) as the network transports, copies every message on
 * send (a later change to the sender's buffer never reaches the receiver), and delivers asynchronously.
 * @module
 */
import { Link, type LinkOptions, type Sink, type Transport } from './link.ts';
import { Ledger } from './ledger.ts';

class MemoryEnd implements Transport {
  peer: MemoryEnd | null = null;
  private sink: Sink | null = null;
  private held: Uint8Array[] = [];
  private paused = false;
  private done = false;

  constructor(readonly describe: string) {}

  bind(sink: Sink): void {
    this.sink = sink;
  }

  write(parts: Uint8Array[]): void {
    if (this.done) return;
    let n = 0;
    for (const p of parts) n += p.length;
    const copy = new Uint8Array(n);
    let o = 0;
    for (const p of parts) {
      copy.set(p, o);
      o += p.length;
    }
    const to = this.peer!;
    setImmediate(() => to.deliver(copy));
  }

  private deliver(chunk: Uint8Array): void {
    if (this.done) return;
    if (this.paused) this.held.push(chunk);
    else this.sink?.data(chunk);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    const held = this.held;
    this.held = [];
    for (const c of held) this.sink?.data(c);
  }

  end(): void {
    this.shut(undefined);
  }

  destroy(err?: Error): void {
    this.shut(err ? new Error('connection reset by peer') : undefined);
  }

  private shut(peerErr: Error | undefined): void {
    if (this.done) return;
    this.done = true;
    const to = this.peer!;
    // The peer sees the close after the messages already in flight.
    setImmediate(() => to.remoteClosed(peerErr));
  }

  private remoteClosed(err: Error | undefined): void {
    if (this.done) return;
    this.resume(); // frames already delivered count: hand over what a pause held back
    this.done = true;
    this.sink?.close(err);
  }
}

/**
 * Two linked endpoints: `a` is party `nameA`'s link to `nameB`, `b` the reverse.
 * @example const [a, b] = memoryLinkPair('client', 'server'); b.send('x', new Uint8Array([1])); await a.recv('x');
 */
export function memoryLinkPair(nameA: string, nameB: string, opts: { a?: LinkOptions; b?: LinkOptions } = {}): [Link, Link] {
  const ea = new MemoryEnd(`memory ${nameA}->${nameB}`), eb = new MemoryEnd(`memory ${nameB}->${nameA}`);
  ea.peer = eb;
  eb.peer = ea;
  return [
    new Link(nameA, nameB, ea, { ledger: new Ledger(), ...opts.a }),
    new Link(nameB, nameA, eb, { ledger: new Ledger(), ...opts.b }),
  ];
}
