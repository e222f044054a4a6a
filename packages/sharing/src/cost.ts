/**
 * Declared and measured costs. A protocol declares the payload bytes it sends on each directed link and
 * its rounds; tests compare that with what the three ledgers recorded for the protocol's label.
 * @module
 */
import type { Phase } from '@si/net';
import type { Party } from './party.ts';
import { DIRS, idOf, type Dir } from './roles.ts';

export interface Cost {
  /** Payload bytes per directed link; missing directions carry nothing. */
  bytes: Partial<Record<Dir, number>>;
  /** Sequential communication rounds (causal depth). */
  rounds: number;
}

export const NO_COST: Cost = { bytes: {}, rounds: 0 };

/** Total payload bytes over all links. */
export function totalBytes(c: Cost): number {
  let s = 0;
  for (const d of DIRS) s += c.bytes[d] ?? 0;
  return s;
}

/** Costs of protocols run one after the other: bytes add up, and so do rounds. */
export function sequential(...cs: Cost[]): Cost {
  const bytes: Partial<Record<Dir, number>> = {};
  let rounds = 0;
  for (const c of cs) {
    for (const d of DIRS) if (c.bytes[d]) bytes[d] = (bytes[d] ?? 0) + c.bytes[d]!;
    rounds += c.rounds;
  }
  return { bytes, rounds };
}

/** Costs of protocols run concurrently (under sibling scopes): bytes add up, rounds take the maximum. */
export function parallel(...cs: Cost[]): Cost {
  const s = sequential(...cs);
  return { bytes: s.bytes, rounds: cs.reduce((m, c) => Math.max(m, c.rounds), 0) };
}

/** Scales a cost's bytes (n independent calls batched into one: same rounds). */
export function scaleBytes(c: Cost, n: number): Cost {
  const bytes: Partial<Record<Dir, number>> = {};
  for (const d of DIRS) if (c.bytes[d]) bytes[d] = c.bytes[d]! * n;
  return { bytes, rounds: c.rounds };
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
