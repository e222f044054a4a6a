/**
 * ComputeMSB (SecureNN, Algorithm 4) on shares in the odd ring Z_N, N = 2^64 - 1, and the SecureNN-style
 * DReLU = NOT ComputeMSB(ShareConvert(x)) built from it, for comparison with the masked-comparison DReLU.
 *
 * MSB(a) = LSB(y) for y = 2a mod N (N is odd). P2 holds a random x = x0 + x1 (x_j from its PRF stream with
 * P_j: no message) and deals Z_67 shares of x's bits. P0 and P1 open r = y + x mod N to each other; then
 *   LSB(y) = LSB(r) XOR LSB(x) XOR [x > r]
 * (a wrap past N flips the parity), and PrivateCompare gives P2 beta' = beta XOR [x > r]. So
 * MSB(a) = u XOR v with u = LSB(r) XOR beta (P0, P1) and v = LSB(x) XOR beta' (P2): the helper knows both
 * factors of what SecureNN multiplies with a Beaver triple, so it deals v's share instead (DESIGN §4).
 * @module
 */
import { bitsMsbFirst, dealBitShares, packedZpBytes, RingTensor } from '@si/ring';
import { CLIENT, HELPER, SERVER, sequential, type Cost, type Party, type Shared } from '@si/sharing';
import { privateCompare, privateCompareCost } from './private-compare.ts';
import { bits as randomBits, source, uniformDigits } from './_sample.ts';
import { addN, lsb } from './_oddring.ts';
import { bitsToRing, SharedBit } from './bit.ts';
import { ringN, shareConvert, shareConvertCost } from './share-convert.ts';

/** MSB of a shared a in Z_N (a as an integer in [0, N): 1 iff a >= 2^63), as a SharedBit over Z_2^64. */
export async function computeMsb(p: Party, a: Shared): Promise<SharedBit> {
  const n = a.size;
  const label = p.label('msb');
  if (p.id === HELPER) {
    const x = addN(ringN(p, CLIENT, `${label}:x`, n), ringN(p, SERVER, `${label}:x`, n));
    p.link(SERVER).send('msb.xbits', dealBitShares(bitsMsbFirst(x), source(p.prf(CLIENT).draw(`${label}:xbits`))));
    const betaP = (await privateCompare(p, n, 64))!;
    const v = lsb(x).map((b, i) => b ^ betaP[i]!);
    p.link(SERVER).send('msb.v', bitsToRing(v, [n]).sub(p.prf(CLIENT).ring(`${label}:v`, [n])).data);
    return new SharedBit(a.shape, null, null, v);
  }
  const peer = p.id === CLIENT ? SERVER : CLIENT;
  const aj = a.share!.reshape([n]).data;
  const rj = addN(addN(aj, aj), ringN(p, HELPER, `${label}:x`, n));
  const digitsP: Promise<Uint8Array | { packed: Uint8Array }> = p.id === CLIENT
    ? Promise.resolve(uniformDigits(p.prf(HELPER).draw(`${label}:xbits`), n * 64))
    : p.link(HELPER).recv('msb.xbits', packedZpBytes(n * 64)).then((packed) => ({ packed }));
  const r = addN(rj, await p.link(peer).exchangeI64('msb.r', rj));
  const beta = randomBits(p.prf(peer).draw(`${label}:beta`), n);
  await privateCompare(p, n, 64, { x: await digitsP, r: bitsMsbFirst(r), beta });
  const u = lsb(r).map((b, i) => b ^ beta[i]!);
  const vShare = p.id === CLIENT ? p.prf(HELPER).ring(`${label}:v`, [n]) : new RingTensor(await p.link(HELPER).recvI64('msb.v', n), [n]);
  return new SharedBit(a.shape, u, vShare.reshape(a.shape), null);
}

/** Cost on n elements: r both ways, bit digits and v's share to P1, PrivateCompare; 3 rounds. */
export function computeMsbCost(n: number): Cost {
  const pc = privateCompareCost(n, 64).bytes;
  return { bytes: { '0>1': 8 * n, '1>0': 8 * n, '2>1': packedZpBytes(n * 64) + 8 * n, '0>2': pc['0>2']!, '1>2': pc['1>2']! }, rounds: 3 };
}

/**
 * DReLU the SecureNN way: NOT ComputeMSB(ShareConvert(x)). Exact for x != -1 (ShareConvert's
 * precondition: -1 = L - 1 has no representative in Z_N, so DReLU(-1) comes out 1). The default drelu()
 * has no such gap and costs less than half; this one exists as the reference structure.
 */
export async function dreluSecureNN(p: Party, x: Shared): Promise<SharedBit> {
  return (await computeMsb(p, await shareConvert(p, x))).not();
}

/** Cost of dreluSecureNN: ShareConvert then ComputeMSB. */
export const dreluSecureNNCost = (n: number): Cost => sequential(shareConvertCost(n), computeMsbCost(n));
