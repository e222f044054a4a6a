/**
 * Declared and measured costs. A protocol declares the payload bytes it sends on each directed link and
 * its rounds; tests compare that with what the three ledgers recorded for the protocol's label.
 *
 * Rounds are causal depth (the ledger's definition): the longest chain of messages in which each was sent
 * after the one before it was received. Depth does not simply add up when protocols run one after the
 * other, because the parties finish a protocol at different depths: a party that received nothing at the
 * end of one protocol can start the next one early. So a cost also carries its **depth matrix**:
 * depth[i][j] is the longest chain from party j's start to party i's end (-Infinity where there is
 * none, 0 on the diagonal), and its rounds are the largest entry. Running b after a composes by the
 * max-plus product (each party starts b when it finishes a), running them concurrently by the entrywise
 * maximum, so `sequential` and `parallel` are exact. A protocol declares its matrix through its message
 * schedule (`messages`): who sends what to whom, after receiving which earlier messages.
 * @module
 */
import type { Phase } from '@si/net';
import type { Party } from './party.ts';
import { DIRS, idOf, type Dir } from './roles.ts';

/** depth[i][j]: the longest message chain from party j's start to party i's end; -Infinity: none. */
export type Depth = readonly (readonly number[])[];

export interface Cost {
  /** Payload bytes per directed link; missing directions carry nothing. */
  bytes: Partial<Record<Dir, number>>;
  /** Causal depth from a common start: the largest entry of `depth`. */
  rounds: number;
  /**
   * The depth matrix (see the module comment). Omitted in a cost written by hand: then every party is taken
   * to wait for every other for `rounds` (a barrier), an upper bound when composed.
   */
  depth?: Depth;
}

const NONE = -Infinity;
const IDENTITY: Depth = [[0, NONE, NONE], [NONE, 0, NONE], [NONE, NONE, 0]];

export const NO_COST: Cost = { bytes: {}, rounds: 0, depth: IDENTITY };

/** The depth matrix of a cost (a barrier of `rounds` when it has none). */
function depthOf(c: Cost): Depth {
  if (c.depth) return c.depth;
  return c.rounds === 0 ? IDENTITY : [0, 1, 2].map(() => [c.rounds, c.rounds, c.rounds]);
}

const roundsOf = (d: Depth): number => Math.max(0, ...d.flat());

/**
 * One message of a schedule: the sending direction, its payload bytes, and the indices (in the schedule) of
 * the messages its sender receives before sending it (none: sent at the sender's start).
 */
export type Message = readonly [dir: Dir, bytes: number, ...after: number[]];

/**
 * A protocol's cost from its message schedule: bytes per link and the depth matrix. Messages of 0 bytes
 * still count (a round trip with an empty payload is a round).
 * @throws {RangeError} when a message waits for a later one or for one its sender does not receive
 */
export function messages(schedule: readonly Message[]): Cost {
  const bytes: Partial<Record<Dir, number>> = {};
  // chain[m][j]: the longest chain from party j's start ending with message m.
  const chain: number[][] = [];
  schedule.forEach(([dir, n, ...after], m) => {
    bytes[dir] = (bytes[dir] ?? 0) + n;
    const from = Number(dir[0]);
    const c = [NONE, NONE, NONE];
    c[from] = 1;
    for (const a of after) {
      if (!(a >= 0 && a < m)) throw new RangeError(`message ${m} waits for message ${a}, which does not come before it`);
      if (Number(schedule[a]![0][2]) !== from) throw new RangeError(`message ${m} (${dir}) waits for message ${a} (${schedule[a]![0]}), which its sender does not receive`);
      for (let j = 0; j < 3; j++) c[j] = Math.max(c[j]!, chain[a]![j]! + 1);
    }
    chain.push(c);
  });
  const depth = IDENTITY.map((row) => [...row]);
  schedule.forEach(([dir], m) => {
    const to = Number(dir[2]);
    for (let j = 0; j < 3; j++) depth[to]![j] = Math.max(depth[to]![j]!, chain[m]![j]!);
  });
  for (const d of DIRS) if (bytes[d] === 0) delete bytes[d];
  return { bytes, rounds: roundsOf(depth), depth };
}

/** Total payload bytes over all links. */
export function totalBytes(c: Cost): number {
  let s = 0;
  for (const d of DIRS) s += c.bytes[d] ?? 0;
  return s;
}

function addBytes(cs: readonly Cost[]): Partial<Record<Dir, number>> {
  const bytes: Partial<Record<Dir, number>> = {};
  for (const c of cs) for (const d of DIRS) if (c.bytes[d]) bytes[d] = (bytes[d] ?? 0) + c.bytes[d]!;
  return bytes;
}

/** Costs of protocols run one after the other: bytes add up; depth composes (max-plus product). */
export function sequential(...cs: Cost[]): Cost {
  let depth = IDENTITY;
  for (const c of cs) {
    const b = depthOf(c);
    depth = [0, 1, 2].map((i) => [0, 1, 2].map((j) => Math.max(...[0, 1, 2].map((k) => b[i]![k]! + depth[k]![j]!))));
  }
  return { bytes: addBytes(cs), rounds: roundsOf(depth), depth };
}

/** Costs of protocols run concurrently (under sibling scopes): bytes add up, depth takes the maximum. */
export function parallel(...cs: Cost[]): Cost {
  const ds = cs.map(depthOf);
  const depth = [0, 1, 2].map((i) => [0, 1, 2].map((j) => Math.max(IDENTITY[i]![j]!, ...ds.map((d) => d[i]![j]!))));
  return { bytes: addBytes(cs), rounds: roundsOf(depth), depth };
}

/** Scales a cost's bytes (n independent calls batched into one: the same schedule). */
export function scaleBytes(c: Cost, n: number): Cost {
  const bytes: Partial<Record<Dir, number>> = {};
  for (const d of DIRS) if (c.bytes[d]) bytes[d] = c.bytes[d]! * n;
  return { ...c, bytes };
}

/**
 * What the parties' ledgers recorded under `label` (and labels nested in it) in a phase: bytes each party
 * sent to each peer, and the rounds of `label` itself (the maximum over the parties, summed over calls).
 */
export function measuredCost(parties: readonly Party[], label: string, phase: Phase = 'online'): Cost {
  const bytes: Partial<Record<Dir, number>> = {};
  let rounds = 0;
  for (const p of parties) {
    let mine = 0;
    for (const r of p.ledger.rows()) {
      if (r.phase !== phase) continue;
      if (r.label === label) mine = Math.max(mine, r.rounds);
      if (r.label !== label && !r.label.startsWith(`${label}/`)) continue;
      for (const [peer, n] of Object.entries(r.sent)) {
        if (n === 0) continue;
        const d = `${p.id}>${idOf(peer)}` as Dir;
        bytes[d] = (bytes[d] ?? 0) + n;
      }
    }
    rounds = Math.max(rounds, mine);
  }
  return { bytes, rounds };
}
