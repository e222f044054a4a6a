import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RingTensor } from '@si/ring';
import { measuredCost, revealClear } from '@si/sharing';
import { maxpool, maxpoolClear, maxpoolCost } from '../src/index.ts';
import { activations, closeAll, labeled, share, TRANSPORTS } from './_parties.ts';

test('maxpool 3x3/s2/p1 and 2x2/s2 equal the signed window maximum; ledger == declared', async () => {
  const ps = await TRANSPORTS[0]![1]();
  try {
    for (const [name, shape, opts] of [
      ['3x3s2p1', [2, 3, 7, 6], { kernel: 3, stride: 2, padding: 1 }],
      ['2x2s2', [1, 2, 4, 5], { kernel: 2, stride: 2 }],
      ['1x1', [1, 1, 2, 2], { kernel: 1 }],
    ] as const) {
      const n = (shape as readonly number[]).reduce((a, b) => a * b, 1);
      const x = activations(`mp-${name}`, n, 30).reshape(shape);
      x.data[0] = -(2n ** 62n);
      x.data[1] = 2n ** 62n;
      const xs = await share(ps, x);
      const ys = await labeled(ps, name, (p) => maxpool(p, xs[p.id], opts));
      assert.ok(revealClear(ys[0].share!, ys[1].share!).equals(maxpoolClear(x, opts)), name);
      assert.equal(measuredCost(ps, name), maxpoolCost(shape, opts), `${name} cost`);
    }
    assert.throws(() => maxpoolClear(RingTensor.zeros([1, 1, 2, 2]), { kernel: 3 }), /smaller than the 3x3 pooling window/);
  } finally {
    closeAll(ps);
  }
});

test.run();
