/**
 * The traffic ledger: bytes and messages per (label, phase) and per peer, and communication rounds.
 *
 * Labels come from nested scopes (`ledger.scope('layer3', …)` inside `scope('infer', …)` records under
 * `infer/layer3`); the scope follows async calls (AsyncLocalStorage), so concurrent work is attributed
 * correctly. The phase ('setup' or 'online') is inherited unless a scope sets it.
 *
 * Rounds are causal depth, counted per scope: a message is stamped with 1 + the depth its sender has
 * seen in the current scope, and receiving a message raises the receiver's depth to the stamp. So
 * messages that do not wait for each other (both directions of an exchange, a dealer's correction) share
 * a round, and a reply to a reply is one more. When a scope ends its depth is added to its parent's
 * depth at entry (sequential composition). All parties run the same scopes in the same order, so the
 * stamps are comparable; a protocol's rounds are the maximum over the parties.
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * setup: once per model and session (weight masks); preprocess: per batch but independent of the
 * input (correlated randomness, products of masks); online: everything that waits for the input.
 */
export type Phase = 'setup' | 'preprocess' | 'online';

/** One row: traffic of one label in one phase, as seen by this party. */
export interface LedgerRow {
  label: string;
  phase: Phase;
  /** Payload bytes sent, per peer. */
  sent: Record<string, number>;
  /** Payload bytes received, per peer. */
  received: Record<string, number>;
  messagesSent: number;
  messagesReceived: number;
  /** Frame header bytes (sent), not part of any protocol's declared cost. */
  overheadBytes: number;
  /** Rounds, summed over the calls of this label (and nested labels). */
  rounds: number;
  /** Number of times a scope with this label ended. */
  calls: number;
}

interface Scope {
  label: string;
  phase: Phase;
  depth: number;
  parent: Scope | null;
  entry: number;
}

function key(label: string, phase: Phase): string {
  return `${phase}\u0000${label}`;
}

export class Ledger {
  private readonly als = new AsyncLocalStorage<Scope>();
  private root: Scope = { label: '', phase: 'online', depth: 0, parent: null, entry: 0 };
  private table = new Map<string, LedgerRow>();

  /**
   * Runs fn in a nested scope; its traffic is recorded under `parent/label`.
   * @param label - a path segment (no '/'), e.g. a layer or protocol name
   */
  async scope<T>(label: string, fn: () => T | Promise<T>, opts: { phase?: Phase } = {}): Promise<T> {
    if (typeof label !== 'string' || label === '' || label.includes('/'))
      throw new TypeError(`"label" expected a non-empty string without '/', got ${JSON.stringify(label)}`);
    const parent = this.current();
    const s: Scope = {
      label: parent.label === '' ? label : `${parent.label}/${label}`,
      phase: opts.phase ?? parent.phase,
      depth: 0,
      parent,
      entry: parent.depth,
    };
    try {
      return await this.als.run(s, fn);
    } finally {
      parent.depth = Math.max(parent.depth, s.entry + s.depth);
      const row = this.row(s.label, s.phase);
      row.rounds += s.depth;
      row.calls += 1;
    }
  }

  /** Runs fn with the phase set (and no new label). */
  phase<T>(phase: Phase, fn: () => T | Promise<T>): Promise<T> {
    const parent = this.current();
    const s: Scope = { ...parent, phase, depth: 0, parent, entry: parent.depth };
    return (async () => {
      try {
        return await this.als.run(s, fn);
      } finally {
        parent.depth = Math.max(parent.depth, s.entry + s.depth);
      }
    })();
  }

  /** The current scope (the root when outside any). */
  private current(): Scope {
    return this.als.getStore() ?? this.root;
  }

  /** Label path of the current scope ('' at the root). */
  get label(): string {
    return this.current().label;
  }

  /** Phase of the current scope. */
  get currentPhase(): Phase {
    return this.current().phase;
  }

  /** Rounds since the last reset at the root (the whole run's sequential depth so far). */
  get depth(): number {
    return this.root.depth;
  }

  private row(label: string, phase: Phase): LedgerRow {
    const k = key(label, phase);
    let r = this.table.get(k);
    if (r === undefined) {
      r = { label, phase, sent: {}, received: {}, messagesSent: 0, messagesReceived: 0, overheadBytes: 0, rounds: 0, calls: 0 };
      this.table.set(k, r);
    }
    return r;
  }

  /** Records a send in the current scope; returns the depth to stamp on the message. */
  recordSend(peer: string, bytes: number, overhead: number): number {
    const s = this.current();
    const r = this.row(s.label, s.phase);
    r.sent[peer] = (r.sent[peer] ?? 0) + bytes;
    r.messagesSent += 1;
    r.overheadBytes += overhead;
    return s.depth + 1;
  }

  /** Captures the scope a receive was issued in (call before awaiting the message). */
  receiver(): (peer: string, bytes: number, depth: number) => void {
    const s = this.current();
    return (peer, bytes, depth) => {
      const r = this.row(s.label, s.phase);
      r.received[peer] = (r.received[peer] ?? 0) + bytes;
      r.messagesReceived += 1;
      s.depth = Math.max(s.depth, depth);
    };
  }

  /** All rows, in the order their labels first appeared. */
  rows(): LedgerRow[] {
    return [...this.table.values()].map((r) => ({ ...r, sent: { ...r.sent }, received: { ...r.received } }));
  }

  /**
   * Totals over the rows matching a phase and/or a label prefix (`prefix` matches the label itself and
   * everything nested under it).
   */
  totals(filter: { phase?: Phase; prefix?: string } = {}): { sent: number; received: number; messages: number; overhead: number } {
    let sent = 0, received = 0, messages = 0, overhead = 0;
    for (const r of this.table.values()) {
      if (filter.phase !== undefined && r.phase !== filter.phase) continue;
      if (filter.prefix !== undefined && r.label !== filter.prefix && !r.label.startsWith(`${filter.prefix}/`)) continue;
      for (const v of Object.values(r.sent)) sent += v;
      for (const v of Object.values(r.received)) received += v;
      messages += r.messagesSent;
      overhead += r.overheadBytes;
    }
    return { sent, received, messages, overhead };
  }

  /** Forgets all rows and the root depth (scopes in progress keep counting). */
  reset(): void {
    this.table = new Map();
    this.root.depth = 0;
  }
}
