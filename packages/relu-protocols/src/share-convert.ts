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
import { bitsMsbFirst, packedZpBytes, RingTensor } from '@si/ring';
import { CLIENT, dealer, HELPER, messages, protocol, RING64, SERVER, Shared, type Cost, type Party } from '@si/sharing';
import { privateCompare } from './private-compare.ts';
import { addN, canonN, signN, smallN, subN, wrapBits, ZN } from './_oddring.ts';

async function shareConvertRun(p: Party, a: Shared): Promise<Shared> {
  const n = a.size;
  return p.scope('share-convert', async (q) => {
    const d = dealer(q);
    const common = d.commonStream();
    const r = common && RING64.draw(common, n), r0 = common && RING64.draw(common, n);
    const etaPP = d.commonBits(n);
    // The helper learns x = a + r (masked) from the two a~_j.
    const got = q.id === HELPER ? Promise.all([q.link(CLIENT).recvI64('masked', n), q.link(SERVER).recvI64('masked', n)]) : null;
    let alpha: Uint8Array | null = null, betaJ: Uint8Array | null = null;
    if (q.id !== HELPER) {
      const r1 = new RingTensor(r!, [n]).sub(new RingTensor(r0!, [n])).data;
      alpha = wrapBits(r0!, r1);
      const rj = q.id === CLIENT ? r0! : r1;
      const aj = a.share!.reshape([n]).data;
      betaJ = wrapBits(aj, rj);
      q.link(HELPER).send('masked', RING64.add(aj, rj));
    }
    const xbits = d.zpBits(n * 64, async () => {
      const [t0, t1] = await got!;
      return bitsMsbFirst(RING64.add(t0, t1));
    });
    const deltaJ = d.shareIn(ZN, n, async () => smallN(wrapBits(...(await got!))));
    let etaP: Uint8Array | null = null;
    if (q.id === HELPER) etaP = await privateCompare(q, n, 64);
    // Public comparand r - 1 (mod L), MSB first.
    else await privateCompare(q, n, 64, { x: (await xbits)!, r: bitsMsbFirst(new RingTensor(r!, [n]).addScalar(-1)), beta: etaPP! });
    const etaPJ = d.shareIn(ZN, n, () => smallN(etaP!));
    if (q.id === HELPER) {
      await Promise.all([xbits, deltaJ, etaPJ]);
      return new Shared(a.shape, null);
    }
    const j = q.id;
    // eta~ = eta' XOR eta'' = eta'' + (1 - 2 eta'') eta'; for r = 0, x > r - 1 is wrong and eta~ must be 1.
    let etaT = signN((await etaPJ)!, etaPP!);
    if (j === CLIENT) etaT = addN(etaT, smallN(etaPP!));
    const rw = new Uint32Array(r!.buffer);
    for (let i = 0; i < n; i++) if (rw[2 * i] === 0 && rw[2 * i + 1] === 0) etaT[i] = j === CLIENT ? 1n : 0n;
    // theta_j = beta_j + delta_j + eta~_j - [j = 0](alpha + 1); y_j = a_j - theta_j (mod N).
    let theta = addN(addN(smallN(betaJ!), (await deltaJ)!), etaT);
    if (j === CLIENT) theta = subN(theta, smallN(Array.from(alpha!, (v) => v + 1)));
    const y = subN(canonN(a.share!.reshape([n]).data), theta);
    return new Shared(a.shape, new RingTensor(y, a.shape));
  });
}

/** Cost on n elements. */
export function shareConvertCost(n: number): Cost {
  const pc = packedZpBytes(n * 64);
  return messages([
    ['0>2', 8 * n], // 0: a~0
    ['1>2', 8 * n], // 1: a~1
    ['2>1', pc, 0, 1], // 2: P1's Z_67 shares of x's bits
    ['2>1', 8 * n, 0, 1], // 3: P1's share of delta
    ['0>2', pc], // 4: P0's PrivateCompare vector (its bit shares and r need no message)
    ['1>2', pc, 2], // 5: P1's, once it has its bit shares
    ['2>1', 8 * n, 4, 5], // 6: P1's share of eta'
  ]);
}

/** Values ShareConvert takes: every ring element but L - 1 (-1 read as signed). */
export const NOT_MINUS_ONE: [bigint, bigint][] = [[-(2n ** 63n), -2n], [0n, 2n ** 63n - 1n]];

/**
 * Shares of a (Z_L) to shares of a (Z_N), a != L - 1, in a scope 'share-convert'. Output shares live in
 * Z_N (canonical u64 slots).
 */
export const shareConvert = protocol(shareConvertRun, {
  name: 'share-convert',
  inputs: (o: { n: number }) => [{ shape: [o.n], domain: NOT_MINUS_ONE }],
  run: (p, [a]) => shareConvertRun(p, a as Shared),
  // a as an integer in [0, L - 1), which is its own residue mod N.
  clear: ([a]) => a!,
  open: (s0, s1) => new RingTensor(addN(s0.data, s1.data), s0.shape),
  cost: (o) => shareConvertCost(o.n),
  examples: [{ n: 300 }, { n: 1 }],
});
