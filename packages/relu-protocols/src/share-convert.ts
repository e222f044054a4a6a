/**
 * ShareConvert (SecureNN, Algorithm 2): shares of a in Z_L, L = 2^64, to shares of the same integer in
 * Z_N, N = L - 1, for a != L - 1 (N cannot represent it; SecureNN's precondition).
 *
 * a0 + a1 = a + theta * L over the integers and L = 1 (mod N), so y_j = a_j - theta_j with theta_j shares
 * of the wrap bit theta in Z_N. With a common random r = r0 + r1 (mod L, wrap alpha), P_j sends
 * a~_j = a_j + r_j (wrap beta_j) to P2, which learns x = a~0 + a~1 (wrap delta) and deals Z_67 shares of
 * x's bits and Z_N shares of delta. PrivateCompare gives P2 eta' = eta'' XOR [x > r - 1] for a common
 * random bit eta''; P2 deals Z_N shares of eta'. Counting wraps:
 *   theta = beta0 + beta1 + delta - alpha - 1 + [x > r - 1]            (r != 0; for r = 0 the last two cancel)
 * All wrap bits are unsigned carries (the research code's signed predicates make the result off by 0-2).
 * Cost: a~ both to P2, 64 bit digits to P1, PrivateCompare, and delta and eta' shares to P1; 4 rounds.
 * @module
 */
import { bitsMsbFirst, dealBitShares, packedZpBytes, RingTensor } from '@si/ring';
import { CLIENT, HELPER, SERVER, Shared, type Cost, type Party } from '@si/sharing';
import { privateCompare, privateCompareCost } from './private-compare.ts';
import { bits as randomBits, source, uniformDigits } from './_sample.ts';
import { addN, canonN, signN, smallN, subN, wrapBits } from './_oddring.ts';

/** Z_N shares drawn from a PRF stream (uniform up to a 2^-64 bias). */
export function ringN(p: Party, peer: 0 | 1 | 2, label: string, n: number): BigInt64Array {
  return canonN(p.prf(peer).ring(label, [n]).data);
}

/** Shares of a (Z_L) to shares of a (Z_N), a != L - 1. Output shares live in Z_N (canonical u64 slots). */
export async function shareConvert(p: Party, a: Shared): Promise<Shared> {
  const n = a.size;
  const label = p.label('shareconvert');
  if (p.id === HELPER) {
    const [t0, t1] = await Promise.all([p.link(CLIENT).recvI64('sc.a', n), p.link(SERVER).recvI64('sc.a', n)]);
    const x = new RingTensor(t0, [n]).add(new RingTensor(t1, [n]));
    const delta = wrapBits(t0, t1);
    const delta1 = subN(smallN(delta), ringN(p, CLIENT, `${label}:delta`, n));
    p.link(SERVER).send('sc.xbits', [dealBitShares(bitsMsbFirst(x), source(p.prf(CLIENT).draw(`${label}:xbits`))), new Uint8Array(delta1.buffer)]);
    const etaP = (await privateCompare(p, n, 64))!;
    p.link(SERVER).send('sc.eta', subN(smallN(etaP), ringN(p, CLIENT, `${label}:eta`, n)));
    return new Shared(a.shape, null);
  }
  const j = p.id;
  const common = p.prf(j === CLIENT ? SERVER : CLIENT);
  const r = common.ring(`${label}:r`, [n]), r0 = common.ring(`${label}:r0`, [n]);
  const r1 = r.sub(r0);
  const alpha = wrapBits(r0.data, r1.data);
  const rj = j === CLIENT ? r0 : r1;
  const aj = a.share!.reshape([n]);
  const tj = aj.add(rj);
  const betaJ = wrapBits(aj.data, rj.data);
  p.link(HELPER).send('sc.a', tj.data);
  let digits: Uint8Array | { packed: Uint8Array }, deltaJ: BigInt64Array;
  if (j === CLIENT) {
    digits = uniformDigits(p.prf(HELPER).draw(`${label}:xbits`), n * 64);
    deltaJ = ringN(p, HELPER, `${label}:delta`, n);
  } else {
    const raw = await p.link(HELPER).recv('sc.xbits', packedZpBytes(n * 64) + 8 * n);
    const db = packedZpBytes(n * 64);
    digits = { packed: raw.subarray(0, db) };
    deltaJ = new BigInt64Array(raw.slice(db).buffer);
  }
  const etaPP = randomBits(common.draw(`${label}:eta''`), n);
  // Public comparand r - 1 (mod L), MSB first.
  const rMinus1 = bitsMsbFirst(r.addScalar(-1));
  await privateCompare(p, n, 64, { x: digits, r: rMinus1, beta: etaPP });
  const etaPJ = j === CLIENT ? ringN(p, HELPER, `${label}:eta`, n) : await p.link(HELPER).recvI64('sc.eta', n);
  // eta~ = eta' XOR eta'' = eta'' + (1 - 2 eta'') eta'; for r = 0, x > r - 1 is wrong and eta~ must be 1.
  const rZero = new Uint8Array(n);
  const rw = new Uint32Array(r.data.buffer);
  for (let i = 0; i < n; i++) rZero[i] = rw[2 * i] === 0 && rw[2 * i + 1] === 0 ? 1 : 0;
  let etaT = signN(etaPJ, etaPP);
  if (j === CLIENT) etaT = addN(etaT, smallN(etaPP));
  for (let i = 0; i < n; i++) if (rZero[i]) etaT[i] = j === CLIENT ? 1n : 0n;
  // theta_j = beta_j + delta_j + eta~_j - [j = 0](alpha + 1); y_j = a_j - theta_j (mod N).
  let theta = addN(addN(smallN(betaJ), deltaJ), etaT);
  if (j === CLIENT) theta = subN(theta, smallN(Array.from(alpha, (v) => v + 1)));
  const y = subN(canonN(aj.data), theta);
  return new Shared(a.shape, new RingTensor(y, a.shape));
}

/** Twin on shares: the wrap bit of a0 + a1, removed in Z_N (exact for a != L - 1). */
export function shareConvertClear(a0: RingTensor, a1: RingTensor): { y: BigInt64Array; theta: Uint8Array } {
  const theta = wrapBits(a0.data, a1.data);
  return { y: subN(addN(canonN(a0.data), canonN(a1.data)), smallN(theta)), theta };
}

/** Cost on n elements. */
export function shareConvertCost(n: number): Cost {
  const pc = privateCompareCost(n, 64).bytes;
  return {
    bytes: { '0>2': 8 * n + pc['0>2']!, '1>2': 8 * n + pc['1>2']!, '2>1': packedZpBytes(n * 64) + 16 * n },
    rounds: 4,
  };
}

