import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RingTensor } from '@si/ring';
import { measuredCost, revealClear } from '@si/sharing';
import {
  bitsPerElement, computeMsb, computeMsbCost, dreluClear, dreluSecureNN, dreluSecureNNCost, shareConvert, shareConvertClear,
  shareConvertCost,
} from '../src/index.ts';
import { addN } from '../src/_oddring.ts';
import { activations, all, closeAll, labeled, randomRing, share, TRANSPORTS } from './_parties.ts';

const NO_MINUS_ONE = (x: RingTensor): RingTensor => RingTensor.from([...x.data].map((v) => (v === -1n ? 0n : v)));
const EDGES = RingTensor.from([0n, 1n, -2n, 2n ** 62n, -(2n ** 62n), -(2n ** 63n), 2n ** 63n - 1n, 2n ** 63n - 2n]);

test('ShareConvert: shares in Z_(2^64-1) of the same integer; equals its twin; ledger == declared', async () => {
  const ps = await TRANSPORTS[0]![1]();
  try {
    for (const [name, x] of [['random', NO_MINUS_ONE(randomRing('sc', 300))], ['edges', EDGES]] as const) {
      const xs = await share(ps, x);
      const ys = await labeled(ps, `sc-${name}`, (p) => shareConvert(p, xs[p.id]));
      const sum = addN(ys[0].share!.data, ys[1].share!.data);
      assert.equal([...sum], [...shareConvertClear(xs[0].share!, xs[1].share!).y], name);
      // The same integer: a (as u64) is below N, so it equals its residue.
      assert.equal([...sum], [...x.data], `${name}: value preserved`);
      assert.equal(measuredCost(ps, `sc-${name}`), shareConvertCost(x.size), `${name} cost`);
    }
  } finally {
    closeAll(ps);
  }
});

for (const [transport, make] of TRANSPORTS) {
  test(`[${transport}] SecureNN DReLU (ShareConvert + ComputeMSB) equals [x >= 0] for x != -1; ledger == declared`, async () => {
    const ps = await make();
    try {
      for (const [name, x] of [['random', NO_MINUS_ONE(randomRing('sn', 300))], ['edges', EDGES], ['acts', NO_MINUS_ONE(activations('sna', 200))]] as const) {
        const xs = await share(ps, x);
        const label = `sn-${name}`;
        const bits = await labeled(ps, label, (p) => dreluSecureNN(p, xs[p.id]));
        const opened = await all(ps, (p) => bits[p.id]!.toShared(p));
        assert.equal([...revealClear(opened[0].share!, opened[1].share!).data].map(Number), [...dreluClear(xs[0].share!, xs[1].share!)], name);
        assert.equal(measuredCost(ps, label), dreluSecureNNCost(x.size), `${name} cost`);
      }
    } finally {
      closeAll(ps);
    }
  });
}

test('ComputeMSB alone on Z_N shares; its declared cost; SecureNN DReLU stays under 3400 bits', async () => {
  const ps = await TRANSPORTS[0]![1]();
  try {
    const x = NO_MINUS_ONE(randomRing('msb', 100));
    const xs = await share(ps, x);
    const zs = await all(ps, (p) => shareConvert(p, xs[p.id]));
    const bits = await labeled(ps, 'msb', (p) => computeMsb(p, zs[p.id]));
    const opened = await all(ps, (p) => bits[p.id]!.toShared(p));
    assert.equal([...revealClear(opened[0].share!, opened[1].share!).data], [...x.data].map((v) => (v < 0n ? 1n : 0n)));
    assert.equal(measuredCost(ps, 'msb'), computeMsbCost(100));
    assert.ok(bitsPerElement(dreluSecureNNCost(1_000_000), 1_000_000) <= 3400);
  } finally {
    closeAll(ps);
  }
});

test.run();
