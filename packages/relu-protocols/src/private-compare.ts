/**
 * PrivateCompare (SecureNN, Algorithm 3) over Z_67: P0 and P1 hold Z_67 shares of the m bits of a secret
 * x (most significant first), a public m-bit r and a common random bit beta; the helper P2 learns
 * beta' = beta XOR (x > r) and nothing else.
 *
 * For each bit position b (MSB first), with w_b the share of x_b XOR t_b:
 *   beta = 0:               t = r,     c_b = r_b - x_b + 1 + sum_{b' < b} w_{b'}
 *   beta = 1, r != 2^m - 1: t = r + 1, c_b = x_b - t_b + 1 + sum_{b' < b} w_{b'}
 *   beta = 1, r  = 2^m - 1: c_0 = 0, c_b = 1 (shared with a random u): x > r is impossible
 * c_b = 0 exactly at the first differing bit when x > r (beta = 0) or x <= r (beta = 1), so some c_b is 0
 * iff beta' = 1. Each party sends d_b = s_b c_b (+rho_b for P0, -rho_b for P1), placed by a permutation,
 * with s (non-zero), rho and the permutation common to P0 and P1 and drawn **independently per
 * element**; P2 adds the two vectors and looks for a zero. The additive mask rho makes each party's vector
 * uniform on its own (P2 may know the bit shares: it deals them), and the per-element permutation hides
 * where the zero is (one permutation per call, as in the research code, leaks the first differing bit).
 * Digits travel 7 bits each.
 * @module
 */
import { compareMessage, findZeroPacked, packedZpBytes } from '@si/ring';
import { CLIENT, HELPER, SERVER, type Cost, type Party } from '@si/sharing';
import { source } from './_sample.ts';

/** What P0 and P1 bring (P2 brings nothing). */
export interface PcInput {
  /** This party's Z_67 shares of x's bits, n rows of m digits, MSB first (or 7-bit packed, as received). */
  x: Uint8Array | { packed: Uint8Array };
  /** The public r's bits, n rows of m bits, MSB first. */
  r: Uint8Array;
  /** The common random bit per element. */
  beta: Uint8Array;
}

/**
 * Runs PrivateCompare on n elements of m bits.
 * @returns beta' at the helper, null at P0 and P1
 */
export async function privateCompare(p: Party, n: number, m: number, input?: PcInput): Promise<Uint8Array | null> {
  const bytes = packedZpBytes(n * m);
  if (p.id === HELPER) {
    const [d0, d1] = await Promise.all([p.link(CLIENT).recv('pc.d', bytes), p.link(SERVER).recv('pc.d', bytes)]);
    return findZeroPacked(d0, d1, n, m);
  }
  if (input === undefined) throw new Error(`${p.role} must bring its bit shares, r and beta to PrivateCompare`);
  const j = p.id as 0 | 1;
  const common = p.prf(j === CLIENT ? SERVER : CLIENT);
  const label = p.label('pc');
  const sources = {
    s: source(common.draw(`${label}:s`)),
    rho: source(common.draw(`${label}:rho`)),
    perm: source(common.draw(`${label}:perm`)),
    u: source(common.draw(`${label}:u`)),
  };
  const x = input.x instanceof Uint8Array ? { digits: input.x } : input.x;
  p.link(HELPER).send('pc.d', compareMessage(n, m, j, x, input.r, input.beta, sources));
  return null;
}

/** Twin: beta XOR (x > r), on bits (MSB first). */
export function privateCompareClear(xBits: Uint8Array, rBits: Uint8Array, beta: Uint8Array, m: number): Uint8Array {
  const n = beta.length;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let gt = 0;
    for (let b = 0; b < m; b++) {
      const xb = xBits[i * m + b]!, rb = rBits[i * m + b]!;
      if (xb !== rb) {
        gt = xb > rb ? 1 : 0;
        break;
      }
    }
    out[i] = beta[i]! ^ gt;
  }
  return out;
}

/** P0 and P1 each send n*m digits at 7 bits to P2; one round. */
export function privateCompareCost(n: number, m: number): Cost {
  const b = packedZpBytes(n * m);
  return { bytes: { '0>2': b, '1>2': b }, rounds: 1 };
}
