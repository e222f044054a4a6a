import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { narrowProductCount, RingTensor } from '@si/ring';
import {
  addChannelBias, beaver, convOp, dealer, elementwise, linearKnown, linearKnownCost, linearKnownSharedMask, LinearPre, matmulOp, measuredCost, prepareLinearKnown, prepareLinearKnownCost, totalBytes,
  rerandomize, reveal, setupKnownWeights, shareInput, truncate, truncateDealt, truncateShare, wordsGroup, ZP67, type Party,
} from '../src/index.ts';
import { all, checkProtocol, closeAll, expectCost, openShares, scoped, shareValue, TestData, TRANSPORTS, type AnyProtocol, type Trio } from '../src/testing.ts';

// Every protocol @si/sharing exports, through the generic checker (README: "Protocols").
const RECORDS: AnyProtocol[] = [shareInput, reveal, truncate, truncateDealt, beaver, linearKnown, linearKnownSharedMask, rerandomize];

for (const [transport, make] of TRANSPORTS) {
  test(`[${transport}] every protocol equals its twin on edge and random inputs, alone and two at once; ledger == declared`, async () => {
    const ps = await make();
    try {
      for (const rec of RECORDS) {
        const r = await checkProtocol(rec, { parties: ps, trials: transport === 'tls' ? 1 : 2 });
        assert.ok(r.runs >= 3 * rec.examples.length, `${rec.name}: ${r.runs} runs`);
      }
    } finally {
      closeAll(ps);
    }
  });
}

test('the checker fails a protocol whose twin or declared cost is wrong', async () => {
  const wrongTwin = { ...beaver, clear: ([x, y]: readonly RingTensor[]) => x!.add(y!), examples: [beaver.examples[0]!] };
  const e1 = await checkProtocol(wrongTwin).then(() => null, (e: Error) => e);
  assert.match(e1!.message, /"beaver" case 0 .*trial 0 \(edge values\): element \d+ is .*, the twin says/);
  const wrongCost = { ...reveal, cost: () => ({ bytes: { '1>0': 1 }, rounds: 1 }), examples: [reveal.examples[0]!] };
  const e2 = await checkProtocol(wrongCost).then(() => null, (e: Error) => e);
  assert.match(e2!.message, /the ledger recorded \{"bytes":\{"1>0":120\},"rounds":1\}, the record declares \{"bytes":\{"1>0":1\},"rounds":1\}/);
});

test('the dealer: the helper holds the sum of what P0 and P1 hold, in every kind; labels follow the scope', async () => {
  const ps = (await TRANSPORTS[0]![1]()) as Trio;
  try {
    const got = await scoped(ps, 'deal', async (q) => {
      const d = dealer(q);
      const random = d.random([5]);
      const words = d.randomIn(wordsGroup(13), 6);
      const mask = d.mask([3], 0);
      const secret = RingTensor.from([7, -1, 2 ** 40]);
      const share = await d.share([3], () => secret);
      const bits = Uint8Array.of(1, 0, 1, 1, 0);
      const zp = await d.zpBits(5, () => bits);
      const t = d.triple(elementwise.apply, [4], [4], [4]);
      const c = await t.c;
      const pair = d.truncPair([4], 12);
      const rf = await pair.rf;
      const common = d.commonRing([2]);
      return { random, words, mask, share, zp, a: t.a, b: t.b, c, r: pair.r, rf, common, secret, bits };
    });
    const [g0, g1, g2] = got;
    assert.ok(g0.random.add(g1.random).equals(g2.random), 'random: m0 + m1 = m');
    const mask13 = 2 ** 13 - 1;
    g2.words.forEach((w, i) => assert.is(((g0.words[i]! + g1.words[i]!) & mask13) >>> 0, w, 'words mod 2^13'));
    assert.ok(g0.mask!.equals(g2.mask!) && g1.mask === null, 'a mask is known to its holder and the helper only');
    assert.ok(g0.share!.add(g1.share!).equals(g0.secret) && g2.share === null, 'share: P0 + P1 = the helper\'s value');
    const unpacked = ZP67.decode((g1.zp as { packed: Uint8Array }).packed, 5);
    (g0.zp as Uint8Array).forEach((d, i) => assert.is((d + unpacked[i]!) % 67, g0.bits[i], 'Z_67 bit shares'));
    assert.ok(g0.a.add(g1.a).mul(g0.b.add(g1.b)).equals(g0.c!.add(g1.c!)), 'triple: c = a * b');
    assert.ok(g0.rf!.add(g1.rf!).equals(g2.r.shrLogical(12)), 'truncation pair: rf = r >>> f');
    assert.ok(g0.common!.equals(g1.common!) && g2.common === null, 'common: P0 and P1 only');
    // Another scope, the same calls: other randomness.
    const again = await scoped(ps, 'deal2', (q) => dealer(q).random([5]));
    assert.not.ok(again[2].equals(g2.random));
    assert.equal(measuredCost(ps, 'deal'), { bytes: { '2>1': 3 * 8 + 5 + 4 * 8 + 4 * 8 }, rounds: 1 });
  } finally {
    closeAll(ps);
  }
});

test('a fixed-point layer (linear, local truncation, bias) is within one ulp of floor(x W / 2^f) + b', async () => {
  const ps = (await TRANSPORTS[0]![1]()) as Trio;
  try {
    const f = 12, data = new TestData('layer');
    const x = data.inDomain([1, 3, 8, 8], [[-(2n ** 13n), 2n ** 13n]]), w = data.inDomain([4, 3, 3, 3], [[-4096n, 4096n]]), b = data.inDomain([4], [[-4096n, 4096n]]);
    const op = convOp({ padding: 1 });
    const layers = await all(ps, (p) => setupKnownWeights(p, 'layer', op, w.shape, p.id === 1 ? w : undefined, p.id === 1 ? b : undefined));
    const xs = shareValue(x, data);
    const narrow = narrowProductCount();
    const ys = await all(ps, async (p) => addChannelBias(p, truncate(p, await linearKnown(p, xs[p.id]!, layers[p.id]), f), layers[p.id].bias));
    // Of the three products (the client's A*(W - B), the helper's A*B, the server's (x - A)*W) only the
    // server's has a left operand in 32 bits (its fixed-point weights): it runs on @si/ring's narrow kernel.
    assert.is(narrowProductCount(), narrow + 1, 'the server product on the narrow kernel');
    const got = openShares(ys);
    const exact = op.apply(x, w).shr(f);
    for (let i = 0; i < got.size; i++) {
      const d = got.data[i]! - exact.data[i]! - b.data[Math.floor(i / 64) % 4]!;
      assert.ok(d === 0n || d === 1n, `element ${i} off by ${d}`);
    }
  } finally {
    closeAll(ps);
  }
});

test('preprocessing is single-use and bound to its layer and shape', async () => {
  const ps = (await TRANSPORTS[0]![1]()) as Trio;
  try {
    const data = new TestData('pre');
    const x = data.ring([3, 8]), w = data.ring([8, 5]);
    const layers = await all(ps, (p) => setupKnownWeights(p, 'fc', matmulOp, w.shape, p.id === 1 ? w : undefined));
    const pres = await all(ps, (p) => p.scope('pre', (q) => prepareLinearKnown(q, layers[p.id], x.shape), 'preprocess'));
    expectCost(measuredCost(ps, 'pre', 'preprocess'), prepareLinearKnownCost(15));
    const xs = shareValue(x, data);
    const ys = await all(ps, (p) => linearKnown(p, xs[p.id]!, layers[p.id], pres[p.id]));
    assert.ok(openShares(ys).equals(matmulOp.apply(x, w)));
    const second = await linearKnown(ps[1], xs[1], layers[1], pres[1]).then(() => '', (e: Error) => e.message);
    assert.match(second, /preprocessing for "fc" was already used: a second input masked with the same A would show the server the difference of the two/);
    const other = await linearKnown(ps[0], xs[0], layers[0], new LinearPre('other', x.shape, null, null)).then(() => '', (e: Error) => e.message);
    assert.match(other, /preprocessing for "other" \[3,8\] used for "fc" \[3,8\]/);
  } finally {
    closeAll(ps);
  }
});

test('two layers on one input share its mask: one E crosses the network, both outputs are right, P1 sees the same E', async () => {
  const ps = (await TRANSPORTS[0]![1]()) as Trio;
  try {
    const data = new TestData('shared-mask');
    const x = data.ring([2, 3, 6, 5]), w1 = data.ring([4, 3, 3, 3]), w2 = data.ring([2, 3, 1, 1]);
    const op1 = convOp({ padding: 1 }), op2 = convOp({ stride: 2 });
    const l1 = await all(ps, (p) => setupKnownWeights(p, 'conv1', op1, w1.shape, p.id === 1 ? w1 : undefined));
    const l2 = await all(ps, (p) => setupKnownWeights(p, 'down', op2, w2.shape, p.id === 1 ? w2 : undefined));
    const pre1 = await all(ps, (p) => p.scope('pre1', (q) => prepareLinearKnown(q, l1[p.id], x.shape), 'preprocess'));
    const pre2 = await all(ps, (p) => p.scope('pre2', (q) => prepareLinearKnown(q, l2[p.id], x.shape, pre1[p.id]), 'preprocess'));
    expectCost(measuredCost(ps, 'pre2', 'preprocess'), prepareLinearKnownCost(2 * 2 * 3 * 3));
    const xs = shareValue(x, data);
    // The reuser cannot run before the layer whose E it reuses.
    const early = await linearKnown(ps[1], xs[1], l2[1], pre2[1]).then(() => '', (e: Error) => e.message);
    assert.match(early, /"down" reuses the input mask of "conv1", which has not run yet/);
    const pre2b = await all(ps, (p) => p.scope('pre2b', (q) => prepareLinearKnown(q, l2[p.id], x.shape, pre1[p.id]), 'preprocess'));
    const seen: Uint8Array[] = [];
    const link = ps[1].link(0).link, recv = link.recv.bind(link);
    link.recv = async (...a: Parameters<typeof recv>) => {
      const m = await recv(...a);
      seen.push(m.slice());
      return m;
    };
    const y1 = await all(ps, (p) => p.scope('one', (q) => linearKnown(q, xs[p.id]!, l1[p.id], pre1[p.id])));
    const y2 = await all(ps, (p) => p.scope('two', (q) => linearKnown(q, xs[p.id]!, l2[p.id], pre2b[p.id])));
    assert.ok(openShares(y1).equals(op1.apply(x, w1)), 'first layer');
    assert.ok(openShares(y2).equals(op2.apply(x, w2)), 'second layer, on the first one\'s E');
    assert.is(seen.length, 1, 'one message from P0 to P1');
    expectCost(measuredCost(ps, 'two'), linearKnownCost(x.size, y2[0]!.size, true, true));
    assert.is(totalBytes(measuredCost(ps, 'two')), 0);
    assert.throws(() => prepareLinearKnown(ps[0], l2[0], [1, 3, 6, 5], pre1[0]), /"down" \[1,3,6,5\] cannot reuse the mask of "conv1" \[2,3,6,5\]/);
  } finally {
    closeAll(ps);
  }
});

test('rerandomize changes the shares, not the value; protocols concurrent in one scope are refused', async () => {
  const ps = (await TRANSPORTS[0]![1]()) as Trio;
  try {
    const xs = shareValue(new TestData('rr').ring([10]));
    const rs = await all(ps, (p) => rerandomize(p, xs[p.id]!));
    assert.ok(openShares(rs).equals(openShares(xs)));
    assert.not.ok(rs[0].share!.equals(xs[0].share!));
    const refused = await Promise.all([beaver(ps[0], xs[0], xs[0], elementwise), beaver(ps[0], xs[0], xs[0], elementwise)]).then(() => '', (e: Error) => e.message);
    assert.match(refused, /scope "mul" is already running in the root scope: protocols that run concurrently need sibling scopes with distinct labels/);
  } finally {
    closeAll(ps);
  }
});

test('shapes are checked where the shares meet', async () => {
  const ps = (await TRANSPORTS[0]![1]()) as Trio;
  const p0: Party = ps[0];
  try {
    const data = new TestData('shapes');
    const [x] = shareValue(data.ring([2, 3]), data), [y] = shareValue(data.ring([3, 3]), data);
    const e = await beaver(p0, x, y, elementwise).then(() => null, (err: Error) => err);
    assert.match(e!.message, /"y" expected shape \[2,3\], got \[3,3\]/);
    assert.throws(() => shareInput(p0, 0, [2], undefined), /client owns the input but passed no value/);
    assert.throws(() => shareInput(p0, 2 as 0, [2]), /"owner" must be the client \(0\) or the server \(1\)/);
  } finally {
    closeAll(ps);
  }
});

test('local truncation\'s rare wrap, forced: shares whose integer sum passes 2^63 give an error of exactly 2^(64-f), as documented', () => {
  const f = 12;
  const max = 2n ** 63n - 1n;
  for (const x of [-5n, 100n, -(2n ** 30n), 7n]) {
    // x0 at the top of the signed range, x1 = x - x0 mod 2^64: x0 + x1 = x + 2^64 over the integers (x < 1),
    // or x - 2^64 with x0 at the bottom (x > 0).
    const x0 = x <= 0n ? max : -(2n ** 63n);
    const x1 = BigInt.asIntN(64, x - x0);
    const got = truncateShare(RingTensor.from([x0]), f, 0).add(truncateShare(RingTensor.from([x1]), f, 1)).data[0]!;
    const floor = x >> BigInt(f);
    const off = BigInt.asIntN(64, got - floor);
    assert.ok(off === (x <= 0n ? 1n : -1n) * 2n ** BigInt(64 - f) || off === (x <= 0n ? 1n : -1n) * 2n ** BigInt(64 - f) + 1n, `x = ${x}: off by ${off}`);
  }
  // Without the wrap (the same x, a share split that does not pass 2^63): floor or one more.
  const x1 = -5n - 12345n;
  const ok = truncateShare(RingTensor.from([12345n]), f, 0).add(truncateShare(RingTensor.from([x1]), f, 1)).data[0]!;
  assert.ok(ok === -1n || ok === 0n, String(ok));
});

test.run();
