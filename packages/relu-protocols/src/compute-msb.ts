/**
 * ComputeMSB (SecureNN, Algorithm 4) on shares in the odd ring Z_N, N = 2^64 - 1, and the SecureNN-style
 * DReLU = NOT ComputeMSB(ShareConvert(x)) built from it, for comparison with the masked-comparison DReLU.
 *
 * MSB(a) = LSB(y) for y = 2a mod N (N is odd). The dealer gives P0 and P1 shares of a random x in Z_N
 * (the helper knows x) and Z_67 shares of x's bits. P0 and P1 open r = y + x mod N to each other; then
 *   LSB(y) = LSB(r) XOR LSB(x) XOR [x > r]
 * (a wrap past N flips the parity), and PrivateCompare gives P2 beta' = beta XOR [x > r]. So
 * MSB(a) = u XOR v with u = LSB(r) XOR beta (P0, P1) and v = LSB(x) XOR beta' (P2): the helper knows both
 * factors of what SecureNN multiplies with a Beaver triple, so it deals v's share instead (DESIGN §4).
 * @module
 */
import { bitsMsbFirst, packedZpBytes, RingTensor } from '@si/ring';
import { bitsToRing, CLIENT, dealer, HELPER, messages, protocol, SERVER, sequential, SharedBit, type Cost, type Party, type Shared } from '@si/sharing';
import { privateCompare } from './private-compare.ts';
import { addN, canonN, lsb, ZN } from './_oddring.ts';
import { isNonNegative } from './drelu.ts';
import { NOT_MINUS_ONE, shareConvert, shareConvertCost } from './share-convert.ts';

async function computeMsbRun(p: Party, a: Shared): Promise<SharedBit> {
  const n = a.size;
  return p.scope('msb', async (q) => {
    const d = dealer(q);
    const x = d.randomIn(ZN, n); // the helper: x; P_j: x_j
    const xbits = d.zpBits(n * 64, () => bitsMsbFirst(x));
    const beta = d.commonBits(n);
    let betaP: Uint8Array | null = null, r: BigInt64Array | null = null;
    if (q.id === HELPER) betaP = await privateCompare(q, n, 64);
    else {
      const aj = a.share!.reshape([n]).data;
      const rj = addN(addN(aj, aj), x);
      r = addN(rj, canonN(await q.link(q.id === CLIENT ? SERVER : CLIENT).exchangeI64('r', rj)));
      await privateCompare(q, n, 64, { x: (await xbits)!, r: bitsMsbFirst(r), beta: beta! });
    }
    const v = betaP && lsb(x).map((b, i) => b ^ betaP![i]!);
    const vShare = d.share([n], () => bitsToRing(v!, [n]));
    if (q.id === HELPER) {
      await Promise.all([xbits, vShare]);
      return new SharedBit(a.shape, null, null, v);
    }
    const u = lsb(r!).map((b, i) => b ^ beta![i]!);
    return new SharedBit(a.shape, u, (await vShare)!.reshape(a.shape), null);
  });
}

/** Cost on n elements: r both ways, bit digits and v's share to P1, PrivateCompare; 3 rounds. */
export function computeMsbCost(n: number): Cost {
  const pc = packedZpBytes(n * 64);
  return messages([
    ['2>1', pc], // 0: P1's Z_67 shares of x's bits
    ['0>1', 8 * n], // 1: r from P0
    ['1>0', 8 * n], // 2: ... and from P1
    ['0>2', pc, 2], // 3: P0's PrivateCompare vector, once it has r
    ['1>2', pc, 0, 1], // 4: P1's, once it has r and its bit shares
    ['2>1', 8 * n, 3, 4], // 5: P1's share of v
  ]);
}

/** [a >= 2^63] for a read as an unsigned integer. */
const msbClear = ([a]: readonly RingTensor[]) => RingTensor.from(Array.from(a!.data, (v) => (BigInt.asUintN(64, v) >= 2n ** 63n ? 1 : 0)), a!.shape);

/**
 * MSB of a shared a in Z_N (a as an integer in [0, N): 1 iff a >= 2^63), as a SharedBit over Z_2^64, in a
 * scope 'msb'. The checker's record takes the input in Z_2^64 shares and converts them first.
 */
export const computeMsb = protocol(computeMsbRun, {
  name: 'compute-msb',
  inputs: (o: { n: number }) => [{ shape: [o.n], domain: NOT_MINUS_ONE }],
  run: async (p, [a]) => computeMsbRun(p, await shareConvert(p, a as Shared)),
  clear: msbClear,
  cost: (o) => sequential(shareConvertCost(o.n), computeMsbCost(o.n)),
  examples: [{ n: 200 }],
});

async function dreluSecureNNRun(p: Party, x: Shared): Promise<SharedBit> {
  return (await computeMsbRun(p, await shareConvert(p, x))).not();
}

/** Cost of dreluSecureNN: ShareConvert then ComputeMSB. */
export const dreluSecureNNCost = (n: number): Cost => sequential(shareConvertCost(n), computeMsbCost(n));

/**
 * DReLU the SecureNN way: NOT ComputeMSB(ShareConvert(x)). Exact for x != -1 (ShareConvert's
 * precondition: -1 = L - 1 has no representative in Z_N, so DReLU(-1) comes out 1). The default drelu()
 * has no such gap and costs less than half; this one exists as the reference structure.
 */
export const dreluSecureNN = protocol(dreluSecureNNRun, {
  name: 'drelu-securenn',
  inputs: (o: { n: number }) => [{ shape: [o.n], domain: NOT_MINUS_ONE }],
  run: (p, [x]) => dreluSecureNNRun(p, x as Shared),
  clear: ([x]) => isNonNegative(x!),
  cost: (o) => dreluSecureNNCost(o.n),
  examples: [{ n: 150 }],
});
