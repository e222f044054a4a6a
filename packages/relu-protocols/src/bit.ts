/**
 * Products with shared bits (SharedBit, @si/sharing: b = u XOR v with u known to P0 and P1 and v to the
 * helper). Because the helper knows v, a product of b with a shared value needs no Beaver triple: the
 * helper deals v times a mask (mulBit).
 * @module
 */
import { RingTensor, shapeSize } from '@si/ring';
import { bitsToRing, CLIENT, dealer, HELPER, messages, pick, protocol, SERVER, Shared, type Cost, type Party, type SharedBit } from '@si/sharing';

/**
 * x * b for a shared value x and a shared bit b of the same number of elements:
 * x*b = u*x + (1 - 2u)*(v*x). For v*x, P0 and P1 mask x with m = m0 + m1 (m_j from their PRF stream with
 * the helper, so it knows m) and exchange w = x + m; the helper deals shares of v*m (P0's from the P0/P2
 * stream, P1's sent). Then v*x = v*w - v*m, and v*w = v0*w + v1*w is local since w is public to both.
 * Cost: w both ways and one share from the helper: 24 bytes per element, one round.
 */
async function mulBitRun(p: Party, b: SharedBit, x: Shared): Promise<Shared> {
  if (b.size !== x.size) throw new RangeError(`bit has ${b.size} elements, value has ${x.size}`);
  return p.scope('mulbit', async (q) => {
    const d = dealer(q);
    const m = d.random(x.shape); // m = m0 + m1; the helper knows m
    const vm = d.share(x.shape, () => m.mul(bitsToRing(b.v!, x.shape)));
    if (q.id === HELPER) {
      await vm;
      return new Shared(x.shape, null);
    }
    const wj = x.share!.add(m);
    const theirs = await q.link(q.id === CLIENT ? SERVER : CLIENT).exchangeI64('w', wj.data);
    const w = wj.addInPlace(new RingTensor(theirs, x.shape));
    return new Shared(x.shape, combineProduct(b, x.share!, w, (await vm)!));
  });
}

/** [x*b]_j = u ? x_j - [v*x]_j : [v*x]_j with [v*x]_j = v_j * w - [v*m]_j. */
export function combineProduct(b: SharedBit, xj: RingTensor, w: RingTensor, vmj: RingTensor): RingTensor {
  const vx = b.vShare!.reshape(xj.shape).mul(w).subInPlace(vmj);
  return pick(b.u!, xj.sub(vx), vx);
}

/** w both ways (16 bytes per element) and the helper's share of v*m (8 bytes); one round. */
export const mulBitCost = (n: number): Cost => messages([['2>1', 8 * n], ['0>1', 8 * n], ['1>0', 8 * n]]);


/**
 * x * b for a shared value x and a shared bit b of the same number of elements, in a scope 'mulbit':
 * x*b = u*x + (1 - 2u)*(v*x). For v*x, P0 and P1 mask x with the dealer's m = m0 + m1 (the helper knows
 * m) and exchange w = x + m; the helper deals shares of v*m (it knows both factors: no Beaver triple).
 * Then v*x = v*w - v*m, and v*w = v0*w + v1*w is local since w is public to both.
 * Cost: w both ways and one share from the helper: 24 bytes per element, one round.
 */
export const mulBit = protocol(mulBitRun, {
  name: 'mulbit',
  inputs: (o: { shape: readonly number[] }) => [{ shape: o.shape, as: 'bit' }, { shape: o.shape }],
  run: (p, [b, x]) => mulBitRun(p, b as SharedBit, x as Shared),
  clear: ([b, x]) => RingTensor.from(Array.from(x!.data, (v, i) => (b!.data[i] ? v : 0n)), x!.shape),
  cost: (o) => mulBitCost(shapeSize(o.shape)),
  examples: [{ shape: [4, 25] }, { shape: [1] }],
});
