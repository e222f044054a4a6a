/**
 * The traffic ledger: bytes and messages per (label, phase) and per peer, and communication rounds.
 *
 * Work runs in scopes: `ledger.scope('layer3', (s) => …)` inside a scope labelled `infer` records under
 * `infer/layer3`. Scopes are explicit values (a Scope is passed to the link with each send and receive),
 * so concurrent work is attributed correctly on any JavaScript runtime, with no async-context tracking.
 * The phase ('setup', 'preprocess' or 'online') is inherited unless a scope sets it.
 *
 * Rounds are causal depth within a scope: the longest chain of messages of the scope (and the scopes in
 * it) in which each message was sent after its predecessor was received. A running scope keeps, for
 * itself and each enclosing scope, the depth this strand of work has reached in that scope's chain of
 * messages; a message is stamped with each of these plus one (outermost first, in the frame), and
 * receiving it raises the receiver's depths to the stamps. So messages that do not wait for each other
 * (both directions of an exchange, a dealer's correction) share a round, a reply to a reply is one more,
 * and a message sent in a nested scope after its sender waited for something in the enclosing scope
 * counts there after it, even for a receiver that had waited for nothing. When a scope ends, its depths
 * in the enclosing scopes merge into its parent's by the maximum: scopes run one after the other add up
 * (sequential composition), sibling scopes run concurrently take the maximum (parallel composition);
 * a child in another phase than its parent keeps its rounds to itself. All parties run the same scopes in the same order, so the stamps are comparable; a protocol's rounds
 * are the maximum over the parties.
 *
 * Concurrent siblings must have distinct labels: a scope's label is also the channel its messages travel
 * on (frame.ts), so two running scopes with one label could take each other's messages. Starting a scope
 * while a sibling with the same label runs throws.
 * @module
 */

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

/** Longest scope label, in UTF-16 code units (labels travel in every frame as the channel). */
const MAX_LABEL = 1024;

/**
 * A running scope: a label path, a phase, and the causal depth seen so far. Made by Ledger.scope or
 * Scope.scope; ends when its function settles.
 */
export class Scope {
  /** This strand's causal depth in the root's, each enclosing scope's and this scope's chain of messages (this one last). */
  readonly depths: number[];
  private readonly running = new Set<string>();
  private open = true;
  /** The scope this one views in another phase (itself unless made by inPhase). */
  readonly origin: Scope;

  /** @internal use Ledger.scope or Scope.scope */
  constructor(readonly ledger: Ledger, readonly label: string, readonly phase: Phase, readonly parent: Scope | null, origin?: Scope) {
    this.origin = origin ?? this;
    // A child adds a level; a view in another phase (inPhase) keeps its parent's levels, its own restarting at 0.
    this.depths = parent ? [...parent.depths.slice(0, origin ? -1 : undefined), 0] : [0];
  }

  /** Causal depth inside this scope so far (its rounds). */
  get depth(): number {
    return this.depths[this.depths.length - 1]!;
  }

  set depth(d: number) {
    this.depths[this.depths.length - 1] = d;
  }

  /** False once the scope's function has settled. */
  get active(): boolean {
    return this.open;
  }

  /**
   * Runs fn in a child scope labelled `label` (a path segment: no '/').
   * @throws {TypeError} for a bad label; {Error} when a sibling with the same label is running
   */
  async scope<T>(label: string, fn: (s: Scope) => T | Promise<T>, opts: { phase?: Phase } = {}): Promise<T> {
    if (typeof label !== 'string' || label === '' || label.includes('/'))
      throw new TypeError(`"label" expected a non-empty string without '/', got ${JSON.stringify(label)}`);
    if (this.running.has(label))
      throw new Error(`scope "${label}" is already running in ${this.label === '' ? 'the root scope' : `"${this.label}"`}: protocols that run concurrently need sibling scopes with distinct labels`);
    const full = this.label === '' ? label : `${this.label}/${label}`;
    if (full.length > MAX_LABEL) throw new RangeError(`scope label "${full.slice(0, 60)}..." is longer than ${MAX_LABEL} characters`);
    const s = new Scope(this.ledger, full, opts.phase ?? this.phase, this);
    this.running.add(label);
    try {
      return await fn(s);
    } finally {
      this.running.delete(label);
      s.open = false;
      // A child in another phase counts its own rounds (setup and preprocessing are not online rounds).
      if (s.phase === this.phase) for (let j = 0; j < this.depths.length; j++) this.depths[j] = Math.max(this.depths[j]!, s.depths[j]!);
      this.ledger.ended(s);
    }
  }

  /**
   * Runs fn under the same label (and channel) in another phase. Its traffic and rounds go to the row of
   * that phase; its rounds do not add to this scope's (a phase counts its own rounds).
   */
  async inPhase<T>(phase: Phase, fn: (s: Scope) => T | Promise<T>): Promise<T> {
    const s = new Scope(this.ledger, this.label, phase, this, this.origin);
    try {
      return await fn(s);
    } finally {
      s.open = false;
      this.ledger.ended(s);
    }
  }
}

export class Ledger {
  /** The root scope: label '', phase online. */
  readonly root: Scope = new Scope(this, '', 'online', null);
  private table = new Map<string, LedgerRow>();

  /** Runs fn in a scope directly under the root (see Scope.scope). */
  scope<T>(label: string, fn: (s: Scope) => T | Promise<T>, opts: { phase?: Phase } = {}): Promise<T> {
    return this.root.scope(label, fn, opts);
  }

  /** Rounds since the last reset at the root (the whole run's sequential depth so far). */
  get depth(): number {
    return this.root.depth;
  }

  private row(label: string, phase: Phase): LedgerRow {
    const k = `${phase}\u0000${label}`;
    let r = this.table.get(k);
    if (r === undefined) {
      r = { label, phase, sent: {}, received: {}, messagesSent: 0, messagesReceived: 0, overheadBytes: 0, rounds: 0, calls: 0 };
      this.table.set(k, r);
    }
    return r;
  }

  /** @internal a scope ended: its rounds and call count go to its row */
  ended(s: Scope): void {
    const row = this.row(s.label, s.phase);
    row.rounds += s.depth;
    row.calls += 1;
  }

  /** The round stamps of a message sent now in scope `s`: each of its depths plus one, outermost first. */
  stamps(s: Scope): number[] {
    return s.depths.map((d) => d + 1);
  }

  /** Records a send in scope `s` (payload bytes and frame overhead). */
  recordSend(s: Scope, peer: string, bytes: number, overhead: number): void {
    const r = this.row(s.label, s.phase);
    r.sent[peer] = (r.sent[peer] ?? 0) + bytes;
    r.messagesSent += 1;
    r.overheadBytes += overhead;
  }

  /**
   * Records a receive in scope `s` of a message with these round stamps; raises the scope's depths.
   * @throws {RangeError} when the stamps do not fit the scope's nesting (a corrupt or foreign frame)
   */
  recordReceive(s: Scope, peer: string, bytes: number, stamps: ArrayLike<number>): void {
    if (stamps.length !== s.depths.length) throw new RangeError(`a message on "${s.label}" from ${peer} has ${stamps.length} round stamps; the scope is ${s.depths.length} deep`);
    const r = this.row(s.label, s.phase);
    r.received[peer] = (r.received[peer] ?? 0) + bytes;
    r.messagesReceived += 1;
    for (let j = 0; j < stamps.length; j++) s.depths[j] = Math.max(s.depths[j]!, stamps[j]!);
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
