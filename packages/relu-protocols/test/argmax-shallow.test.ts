// The shallow argmax beside the binary tree: the same index on ties and edges, fewer rounds.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RingTensor } from '@si/ring';
import { reveal } from '@si/sharing';
import { all, closeAll, shareValue, TestData, TRANSPORTS, type Trio } from '@si/sharing/testing';
import { argmax, argmaxShallow, FULL, shallowCost, shallowGroup, treeCost, TWO_HOP_PAIRS } from '../src/index.ts';

test('ties go to the first maximum, as the tree and NumPy: all equal, two equal maxima, maxima at the ends', async () => {
  const ps = (await TRANSPORTS[0]![1]()) as Trio;
  try {
    const data = new TestData('shallow-ties');
    const big = 2n ** 61n;
    const rows: bigint[][] = [
      Array(12).fill(5n),
      [1n, 9n, 3n, 9n, 0n, 9n, -1n, 2n, 9n, 1n, 1n, 1n],
      [big, ...Array(10).fill(0n), big],
      [-big, ...Array(10).fill(-big + 1n), 0n],
      [0n, -1n, 0n, -1n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 1n],
    ];
    const x = RingTensor.from(rows.flat(), [rows.length, 12]);
    const xs = shareValue(x, data);
    for (const g of [2, 3, 5, 12]) {
      const out = await all(ps, async (p) => reveal(p, (await argmaxShallow(p, xs[p.id]!, 1, g)).index, 'client'));
      const tree = await all(ps, async (p) => reveal(p, (await argmax(p, xs[p.id]!, 1, FULL)).index, 'client'));
      assert.equal([...out[0]!.data].map(Number), [0, 1, 0, 11, 11], `group ${g}`);
      assert.equal([...out[0]!.data], [...tree[0]!.data], `group ${g} vs tree`);
    }
  } finally {
    closeAll(ps);
  }
});

test('rounds: 6 per level, ceil(log10 n) levels (tree: 3 per level of log2 n)', () => {
  for (const [n, shallowRounds, treeRounds] of [[10, 6, 12], [16, 6, 12], [100, 12, 21], [150, 18, 24], [1000, 18, 30]] as const) {
    const s = shallowCost([8, n], 1, shallowGroup(n)), t = treeCost([8, n], 1, FULL, true);
    assert.is(s.rounds, shallowRounds, `n=${n}`);
    assert.is(t.rounds, treeRounds, `n=${n} tree`);
  }
  assert.throws(() => shallowCost([1, 4], 1, 1), /group/);
  // With the two-hop test on exact 31-bit windows: 4 per level.
  for (const [n, rounds] of [[10, 4], [100, 8], [1000, 12]] as const) assert.is(shallowCost([8, n], 1, shallowGroup(n), TWO_HOP_PAIRS).rounds, rounds, `n=${n} two-hop`);
  assert.throws(() => shallowCost([1, 4], 1, 2, { mode: 'small-ring', dropLowBits: 4, keepBits: 16, hops: 2 }), /dropLowBits 0/);
  assert.throws(() => shallowCost([1, 4], 1, 2, { mode: 'small-ring', dropLowBits: 0, keepBits: 16 }), /two-hop/);
});

test.run();
