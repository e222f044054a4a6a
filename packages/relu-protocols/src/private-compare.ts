/**
 * PrivateCompare (SecureNN, Algorithm 3) over Z_p: P0 and P1 hold Z_p shares of the m bits of a secret
 * x (most significant first), a public m-bit r and a common random bit beta; the helper P2 learns
 * beta' = beta XOR (x > r) and nothing else.
 *
 * For each bit position b (MSB first), with w_b the share of x_b XOR t_b:
 *   beta = 0:               t = r,     c_b = r_b - x_b + 1 + sum_{b' < b} w_{b'}
 *   beta = 1, r != 2^m - 1: t = r + 1, c_b = x_b - t_b + 1 + sum_{b' < b} w_{b'}
 *   beta = 1, r  = 2^m - 1: c_0 = 0, c_b = 1 (shared with a random u): x > r is impossible
 * c_b = 0 exactly at the first differing bit when x > r (beta = 0) or x <= r (beta = 1), so some c_b is 0
 * iff beta' = 1. Each party sends d_b = s_b c_b (+rho_b for P0, -rho_b for P1), placed by a permutation,
 * with s (non-zero), rho and the permutation common to P0 and P1 (the dealer's common streams) and drawn
 * **independently per element**; P2 adds the two vectors and looks for a zero. The additive mask rho
 * makes each party's vector uniform on its own (P2 may know the bit shares: it deals them), and the
 * per-element permutation hides where the zero is (one permutation per call, as in the research code,
 * leaks the first differing bit). The prime is pcPrime(m), the smallest above m + 1: every c_b lies in
 * [0, m + 1], so it is 0 mod p only when it is 0 (SecureNN's 67 serves m = 64; m = 15 needs only 17, whose
 * digits travel in 5 bits instead of 7). The digit formula, masking and packing run in @si/ring's
 * WebAssembly (zpCompareDigits), with the masks from the streams chosen here.
 * @module
 */
import { bitsMsbFirst, packedZpBytes, pcPrime, RingTensor, zpCompareDigits, zpFindZero, type ByteSource } from '@si/ring';
import { CLIENT, dealCost, dealer, HELPER, messages, protocol, SERVER, sequential, type Cost, type Keystream, type Party } from '@si/sharing';

/** A keystream as a byte source for @si/ring's samplers. */
const source = (ks: Keystream) => (out: Uint8Array): void => void ks.fill(out);

/** What P0 and P1 bring (P2 brings nothing). */
export interface PcInput {
  /** This party's Z_p shares (p = pcPrime(m)) of x's bits, n rows of m digits, MSB first (or packed, as the dealer delivers P1's). */
  x: Uint8Array | { packed: Uint8Array };
  /** The public r's bits, n rows of m bits, MSB first. */
  r: Uint8Array;
  /** The common random bit per element. */
  beta: Uint8Array;
}


async function privateCompareRun(p: Party, n: number, m: number, input?: PcInput): Promise<Uint8Array | null> {
  return p.scope('pc', async (q) => {
    const d = dealer(q);
    const streams = [d.commonStream(), d.commonStream(), d.commonStream(), d.commonStream()];
    const p = pcPrime(m), bytes = packedZpBytes(n * m, p);
    if (q.id === HELPER) {
      const [d0, d1] = await Promise.all([q.link(CLIENT).recv('d', bytes), q.link(SERVER).recv('d', bytes)]);
      return zpFindZero(d0, d1, n, m, p);
    }
    if (input === undefined) throw new Error(`${q.role} must bring its bit shares, r and beta to PrivateCompare`);
    // The masks s (non-zero), rho and the per-element permutations, and the digits u of the third branch,
    // from four streams P0 and P1 share.
    const [s, rho, perm, u] = (streams as Keystream[]).map(source) as [ByteSource, ByteSource, ByteSource, ByteSource];
    q.link(HELPER).send('d', zpCompareDigits(input.x, input.r, input.beta, { s, rho, perm, u }, n, m, q.id as 0 | 1, p));
    return null;
  });
}

/** P0 and P1 each send n*m digits of Z_pcPrime(m) to P2; one round. */
export function privateCompareCost(n: number, m: number): Cost {
  const b = packedZpBytes(n * m, pcPrime(m));
  return messages([['0>2', b], ['1>2', b]]);
}

interface PcParams {
  n: number;
  m: number;
}

const bitsOf = (t: RingTensor, m: number): Uint8Array => bitsMsbFirst(t, m);

/**
 * Runs PrivateCompare on n elements of m bits, in a scope 'pc'.
 * @returns beta' at the helper, null at P0 and P1
 * @throws {Error} when P0 or P1 brings no input
 */
export const privateCompare = protocol(privateCompareRun, {
  name: 'private-compare',
  // x and r are m-bit values, beta bits; the record deals x's bit shares as the comparison protocols do.
  inputs: (o: PcParams) => [
    { shape: [o.n], as: 'public', domain: [[0n, 2n ** BigInt(o.m) - 1n]] },
    { shape: [o.n], as: 'public', domain: [[0n, 2n ** BigInt(o.m) - 1n]] },
    { shape: [o.n], as: 'public', domain: [[0n, 1n]] },
  ],
  async run(p, [x, r, beta], o) {
    const digits = await dealer(p).zpBits(o.n * o.m, () => bitsOf(x as RingTensor, o.m), pcPrime(o.m));
    const betaBits = Uint8Array.from((beta as RingTensor).data, Number);
    const out = await privateCompareRun(p, o.n, o.m, p.id === HELPER ? undefined : { x: digits!, r: bitsOf(r as RingTensor, o.m), beta: betaBits });
    return out && RingTensor.from(out);
  },
  clear: ([x, r, beta]) => RingTensor.from(Array.from(x!.data, (v, i) => Number(beta!.data[i]!) ^ (BigInt.asUintN(64, v) > BigInt.asUintN(64, r!.data[i]!) ? 1 : 0))),
  cost: (o) => sequential(dealCost.zpBits(o.n * o.m, pcPrime(o.m)), privateCompareCost(o.n, o.m)),
  output: 'helper',
  examples: [{ n: 200, m: 15 }, { n: 64, m: 1 }, { n: 50, m: 63 }, { n: 3, m: 4 }],
});
