/**
 * Protocol records. Every exported protocol is one value: the function you call (`relu(p, x, mode)`)
 * that also carries its record `{ name, inputs, run, clear, cost }`, made by {@link protocol} (a frozen
 * callable, as noble's hashes are). The record is what the generic checker (`@si/sharing/testing`) needs
 * to run any protocol on local parties over random and edge inputs and assert `run == clear` and
 * `ledger == cost`:
 *
 * - `inputs(params)`: one slot per input: its shape, how it reaches the parties (shares of P0 and P1, a
 *   shared bit, a party's private tensor, a public tensor) and the values it may take (a Domain: unions
 *   of signed intervals; edges are drawn from their ends).
 * - `run(p, inputs, params)`: calls the protocol with the checker's inputs.
 * - `clear(values, params)`: the plain function the protocol must equal, on values (never on shares),
 *   written independently of the protocol's own arithmetic.
 * - `cost(params)`: declared bytes per directed link and rounds.
 * - `tolerance`: a documented deviation from `clear` (default: exact).
 * @module
 */
import type { RingTensor } from '@si/ring';
import type { SharedBit } from './bit.ts';
import type { Cost } from './cost.ts';
import type { Party } from './party.ts';
import type { Shared } from './shared.ts';

/** Values an input may take: a union of signed 64-bit intervals [lo, hi] (inclusive). */
export type Domain = readonly (readonly [bigint, bigint])[];

/** Every ring element (read as signed). */
export const RING: Domain = [[-(2n ** 63n), 2n ** 63n - 1n]];

/** Values of at most `bits` bits, signed: [-2^(bits-1), 2^(bits-1) - 1]. */
export const signedBits = (bits: number): Domain => [[-(2n ** BigInt(bits - 1)), 2n ** BigInt(bits - 1) - 1n]];

/** An input slot of a protocol. */
export interface Slot {
  shape: readonly number[];
  /**
   * How the input reaches the parties: `shared` (default) additive shares of P0 and P1; `bit` a
   * SharedBit (0/1 values); `client` / `server` that party's private tensor (null elsewhere); `public`
   * the same tensor at all three.
   */
  as?: 'shared' | 'bit' | 'client' | 'server' | 'public';
  /** Values the input may take (default: every ring element; bits: 0 and 1). */
  domain?: Domain;
}

/** What an input is at one party. */
export type Input = Shared | SharedBit | RingTensor | null;
/** What a protocol returns at one party: shares (Shared or SharedBit), or an opened value (null where not opened). */
export type Output = Shared | SharedBit | RingTensor | null;

/** Where a protocol's result is: shares of P0 and P1, or a value opened to one or both (or known to the helper). */
export type OutputKind = 'shared' | 'client' | 'server' | 'both' | 'helper';

/** A documented deviation from the cleartext twin. */
export interface Tolerance<P> {
  /** What is allowed and why (shown in checker failures and docs). */
  describe: string;
  /** Returns null when `got` is within the tolerance, else what is wrong. */
  check(got: RingTensor, want: RingTensor, values: readonly RingTensor[], params: P): string | null;
}

export interface ProtocolSpec<P> {
  /** Ledger label the protocol runs under (its own scope). */
  readonly name: string;
  inputs(params: P): readonly Slot[];
  run(p: Party, inputs: readonly Input[], params: P): Promise<Output>;
  clear(values: readonly RingTensor[], params: P): RingTensor;
  cost(params: P): Cost;
  /** Who gets the result: shares of P0 and P1 (default), or the opened value at one or both (may depend on the parameters). */
  readonly output?: OutputKind | ((params: P) => OutputKind);
  readonly tolerance?: Tolerance<P>;
  /** How the two output shares combine (default: sum mod 2^64). */
  open?(s0: RingTensor, s1: RingTensor): RingTensor;
  /** Parameters the generic checker runs by default (include the edge cases). */
  readonly examples: readonly NoInfer<P>[];
}

/** A protocol: the function to call, carrying its record. */
export type Protocol<F, P> = F & ProtocolSpec<P>;

/**
 * Makes a protocol value: `fn` itself (called as usual) with the record's fields attached, frozen.
 * @example export const double = protocol(async (p: Party, x: Shared) => mulScalar(p, x, 2), { name: 'double', … });
 */
export function protocol<F extends (...args: never[]) => unknown, P>(fn: F, spec: ProtocolSpec<P>): Protocol<F, P> {
  const f = ((...args: Parameters<F>) => fn(...args)) as unknown as F;
  for (const [k, v] of Object.entries(spec)) Object.defineProperty(f, k, { value: v, enumerable: true });
  return Object.freeze(f) as Protocol<F, P>;
}
