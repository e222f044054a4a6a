import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RingTensor } from '@si/ring';
import { reveal, truncateShare } from '@si/sharing';
import { all, closeAll, shareValue, TestData, TRANSPORTS, type Trio } from '@si/sharing/testing';
import { bitsPerElement, drelu, dreluCost, exactDomain, windowOf, type DreluMode } from '../src/index.ts';

/**
 * What a truncated sign test computes on any input, from the shares (the record's twin covers only the
 * exact window): the top bit of t = trunc0(x0) + trunc1(x1) mod 2^k, negated. Outside the window the sign
 * is that of t wrapped to k bits.
 */
function windowBit(x0: RingTensor, x1: RingTensor, mode: DreluMode): number[] {
  const { k, d } = windowOf(mode);
  const t = truncateShare(x0, d, 0).add(truncateShare(x1, d, 1));
  return Array.from(t.data, (v) => 1 - Number((BigInt.asUintN(64, v) >> BigInt(k - 1)) & 1n));
}

test('outside the exact window the sign is that of the wrapped k-bit window, as documented', async () => {
  const ps = (await TRANSPORTS[0]![1]()) as Trio;
  try {
    const data = new TestData('outside');
    for (const mode of [{ mode: 'small-ring', dropLowBits: 4, keepBits: 16 }, { mode: 'paper', dropLowBits: 5, keepBits: 12 }] as DreluMode[]) {
      const x = data.ring([500]);
      const xs = shareValue(x, data);
      const bits = await all(ps, (p) => drelu(p, xs[p.id]!, mode));
      const got = await all(ps, (p) => reveal(p, bits[p.id].toShared(p), 'client'));
      assert.equal([...got[0]!.data].map(Number), windowBit(xs[0].share!, xs[1].share!, mode), mode.mode);
      // The exact window, as documented: [-2^(d+k-1), -2^d - 1] and [0, (2^(k-1) - 1) 2^d - 1].
      const { k, d } = windowOf(mode);
      const D = 2n ** BigInt(d), half = 2n ** BigInt(k - 1);
      assert.equal(exactDomain(mode), [[-half * D, -D - 1n], [0n, (half - 1n) * D - 1n]]);
    }
  } finally {
    closeAll(ps);
  }
});

test('declared bits per DReLU meet the targets (research code: 1664 at k=16, 3968 at k=64); bad modes are named', () => {
  const n = 1_000_000;
  const small = bitsPerElement(dreluCost(n, { mode: 'small-ring', dropLowBits: 4, keepBits: 16 }), n);
  const full = bitsPerElement(dreluCost(n, { mode: 'full' }), n);
  assert.ok(small <= 1024, `small-ring k=16: ${small}`);
  // z both ways (2 x 16 bits), three vectors of 15 Z_17 digits at 5 bits, the helper's 64-bit share of v.
  assert.is(small, 2 * 16 + 3 * 15 * 5 + 64);
  assert.ok(full <= 3400, `full: ${full}`);
  assert.throws(() => dreluCost(1, { mode: 'small-ring', dropLowBits: 0, keepBits: 40 }), /"keepBits" expected an integer in \[2, 32\]/);
  assert.throws(() => dreluCost(1, { mode: 'fast' } as unknown as DreluMode), /"mode" expected 'full', 'small-ring' or 'paper'/);
});

test.run();
