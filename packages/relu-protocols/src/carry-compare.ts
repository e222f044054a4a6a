/**
 * The carry of two private m-bit numbers in one message each: P0 holds a, P1 holds b, both hold a common
 * random bit beta; the helper P2 learns beta XOR [a + b >= 2^m] and nothing else, from one message of
 * P0 and one of P1 sent at the same time (no message between P0 and P1 first: the two-hop sign test's
 * first hop).
 *
 * [a + b >= 2^m] = [X > Y] with X = 2a and Y = 2(2^m - 1 - b) + 1, two (m+1)-bit numbers of different
 * parity (so X != Y and [Y > X] is the complement). For a strict X > Y between numbers held by different
 * parties, with prefixes X_(i) = X >> i, position by position (bit i, i = 0..m):
 *   c_i = 3 (X_(i+1) - Y_(i+1)) + (x_i - y_i - 1)
 * is zero exactly when the prefixes above i agree and x_i = 1, y_i = 0 (3 > |x_i - y_i - 1|), i.e. at
 * the first differing bit when X > Y, and nowhere when X < Y. c_i is linear: P0 computes its X-part or
 * Y-part alone, P1 the other; beta = 0 tests X > Y, beta = 1 tests Y > X (P0 and P1 swap sides), so
 * some c_i is zero iff beta XOR [X > Y] = 1.
 * Each party sends d_i = s_i c_i (+rho_i at P0, -rho_i at P1) mod p, placed by a permutation; s (non-zero),
 * rho and the permutations are drawn per element from streams P0 and P1 share. P2 adds the vectors: one
 * zero or none at a uniform position, every other entry uniform non-zero; each vector alone is uniform.
 * The prime p is the smallest above 3 * 2^m + 2, so every |c_i| < p and c_i = 0 mod p only when c_i = 0.
 *
 * Compared with PrivateCompare (private-compare.ts, which compares a secret with a public number and so
 * needs the masked value opened between P0 and P1 first), this costs (m + 1) digits of m + 2 bits per
 * party instead of m digits of about log2(m) bits: quadratic in m. One round. The sampling, digits,
 * packing and zero search run in @si/ring's WebAssembly (carryDigits, carryFindZero).
 * @module
 */
import { carryDigits, carryFindZero, carryPackedBytes, RingTensor } from '@si/ring';
import { CLIENT, dealer, HELPER, messages, protocol, SERVER, type Cost, type Keystream, type Party } from '@si/sharing';

export { carryPrime } from '@si/ring';

/** A keystream as a byte source for @si/ring's samplers. */
const source = (ks: Keystream) => (out: Uint8Array): void => void ks.fill(out);

/** What P0 (a) and P1 (b) bring: their m-bit numbers and the common bit per element. */
export interface CarryInput {
  v: Uint32Array;
  beta: Uint8Array;
}

async function carryCompareRun(p: Party, n: number, m: number, input?: CarryInput): Promise<Uint8Array | null> {
  return p.scope('carry', async (q) => {
    const d = dealer(q);
    const streams = [d.commonStream(), d.commonStream(), d.commonStream()];
    const bytes = carryPackedBytes(n, m);
    if (q.id === HELPER) {
      const [d0, d1] = await Promise.all([q.link(CLIENT).recv('c', bytes), q.link(SERVER).recv('c', bytes)]);
      return carryFindZero(d0, d1, n, m);
    }
    if (input === undefined) throw new Error(`${q.role} must bring its number and beta to the carry comparison`);
    const [s, rho, perm] = (streams as Keystream[]).map(source);
    q.link(HELPER).send('c', carryDigits(input.v, input.beta, { s: s!, rho: rho!, perm: perm! }, m, q.id as 0 | 1));
    return null;
  });
}

/** P0 and P1 each send n (m + 1) digits of m + 2 bits (about) to P2; one round. */
export function carryCompareCost(n: number, m: number): Cost {
  const b = carryPackedBytes(n, m);
  return messages([['0>2', b], ['1>2', b]]);
}

interface CarryParams {
  n: number;
  m: number;
}

/**
 * Runs the carry comparison on n elements of m bits, in a scope 'carry'.
 * @returns beta XOR [a + b >= 2^m] at the helper, null at P0 and P1
 * @throws {Error} when P0 or P1 brings no input
 */
export const carryCompare = protocol(carryCompareRun, {
  name: 'carry-compare',
  inputs: (o: CarryParams) => [
    { shape: [o.n], as: 'public', domain: [[0n, 2n ** BigInt(o.m) - 1n]] },
    { shape: [o.n], as: 'public', domain: [[0n, 2n ** BigInt(o.m) - 1n]] },
    { shape: [o.n], as: 'public', domain: [[0n, 1n]] },
  ],
  async run(p, [a, b, beta], o) {
    const mine = p.id === CLIENT ? a : b;
    const out = await carryCompareRun(p, o.n, o.m, p.id === HELPER ? undefined : { v: Uint32Array.from((mine as RingTensor).data, Number), beta: Uint8Array.from((beta as RingTensor).data, Number) });
    return out && RingTensor.from(out);
  },
  // The twin: the carry out of the m-bit sum, by integer addition.
  clear: ([a, b, beta], o) => RingTensor.from(Array.from(a!.data, (v, i) => Number(beta!.data[i]!) ^ (v + b!.data[i]! >= 2n ** BigInt(o.m) ? 1 : 0))),
  cost: (o) => carryCompareCost(o.n, o.m),
  output: 'helper',
  examples: [{ n: 200, m: 15 }, { n: 64, m: 1 }, { n: 50, m: 30 }, { n: 3, m: 4 }, { n: 40, m: 19 }],
});
