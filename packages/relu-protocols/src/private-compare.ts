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
import { packZp7, packedZpBytes, unpackZp7, ZP } from '@si/ring';
import { CLIENT, HELPER, SERVER, type Cost, type Party } from '@si/sharing';
import { nonZeroDigits, permutations, uniformDigits } from './_sample.ts';

/** What P0 and P1 bring (P2 brings nothing). */
export interface PcInput {
  /** This party's Z_67 shares of x's bits, n rows of m digits, MSB first. */
  x: Uint8Array;
  /** The public r's bits, n rows of m bits, MSB first. */
  r: Uint8Array;
  /** The common random bit per element. */
  beta: Uint8Array;
}

const MUL = (() => {
  const t = new Uint8Array(ZP * ZP);
  for (let a = 0; a < ZP; a++) for (let b = 0; b < ZP; b++) t[a * ZP + b] = (a * b) % ZP;
  return t;
})();

/**
 * Runs PrivateCompare on n elements of m bits.
 * @returns beta' at the helper, null at P0 and P1
 */
export async function privateCompare(p: Party, n: number, m: number, input?: PcInput): Promise<Uint8Array | null> {
  const bytes = packedZpBytes(n * m);
  if (p.id === HELPER) {
    const [d0, d1] = await Promise.all([p.link(CLIENT).recv('pc.d', bytes), p.link(SERVER).recv('pc.d', bytes)]);
    return findZero(unpackZp7(d0, n * m), unpackZp7(d1, n * m), n, m);
  }
  if (input === undefined) throw new Error(`${p.role} must bring its bit shares, r and beta to PrivateCompare`);
  if (input.x.length !== n * m || input.r.length !== n * m || input.beta.length !== n)
    throw new RangeError(`PrivateCompare expects ${n}x${m} digits and bits and ${n} betas`);
  const d = maskedDigits(p, n, m, input);
  p.link(HELPER).send('pc.d', packZp7(d));
  return null;
}

/** This party's masked, permuted vector d (see the module comment). */
function maskedDigits(p: Party, n: number, m: number, { x, r, beta }: PcInput): Uint8Array {
  const j = p.id; // 0 or 1
  const common = p.prf(j === CLIENT ? SERVER : CLIENT);
  const label = p.label('pc');
  const s = nonZeroDigits(common.draw(`${label}:s`), n * m);
  const rho = uniformDigits(common.draw(`${label}:rho`), n * m);
  const perm = permutations(common.draw(`${label}:perm`), n, m);
  // Elements in the third branch (beta = 1 and r all ones) get random u from their own draw.
  let third = 0;
  for (let i = 0; i < n; i++) if (beta[i] === 1 && allOnes(r, i * m, m)) third++;
  const u = third > 0 ? uniformDigits(common.draw(`${label}:u`), third * m) : new Uint8Array(0);
  const t = new Uint8Array(m);
  const d = new Uint8Array(n * m);
  for (let i = 0, ui = 0; i < n; i++) {
    const o = i * m;
    if (beta[i] === 1 && allOnes(r, o, m)) {
      for (let b = 0; b < m; b++) {
        const ub = u[ui * m + b]!;
        // Shares of c_0 = 0 and c_b = 1: P0 holds (u_b + 1) or u_0, P1 holds -u_b.
        const c = j === 0 ? (b === 0 ? ub : (ub + 1) % ZP) : (ZP - ub) % ZP;
        place(d, o, perm, s, rho, b, c, j);
      }
      ui++;
      continue;
    }
    // t = r (beta = 0) or r + 1 (beta = 1; no overflow in this branch).
    let carry = beta[i]!;
    for (let b = m - 1; b >= 0; b--) {
      const v = r[o + b]! + carry;
      t[b] = v & 1;
      carry = v >> 1;
    }
    let sum = 0; // share of sum_{b' < b} w_{b'}, mod 67
    for (let b = 0; b < m; b++) {
      const xb = x[o + b]!, tb = t[b]!;
      let c: number;
      if (beta[i] === 0) c = (j * tb - xb + j + sum + 2 * ZP) % ZP;
      else c = (xb - j * tb + j + sum + 2 * ZP) % ZP;
      place(d, o, perm, s, rho, b, c, j);
      // w_b = x_b + j t_b - 2 t_b x_b
      sum = (sum + (tb ? j + ZP - xb : xb)) % ZP;
    }
  }
  return d;
}

function allOnes(r: Uint8Array, o: number, m: number): boolean {
  for (let b = 0; b < m; b++) if (r[o + b] !== 1) return false;
  return true;
}

function place(d: Uint8Array, o: number, perm: Uint8Array, s: Uint8Array, rho: Uint8Array, b: number, c: number, j: number): void {
  const sc = MUL[s[o + b]! * ZP + c]!;
  const rb = rho[o + b]!;
  d[o + perm[o + b]!] = j === 0 ? (sc + rb) % ZP : (sc + ZP - rb) % ZP;
}

/** beta'_i = 1 iff some position of element i sums to 0 mod 67. */
function findZero(d0: Uint8Array, d1: Uint8Array, n: number, m: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * m;
    for (let b = 0; b < m; b++) {
      const v = d0[o + b]! + d1[o + b]!;
      if (v === 0 || v === ZP) {
        out[i] = 1;
        break;
      }
    }
  }
  return out;
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
