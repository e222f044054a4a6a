import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RingTensor } from '@si/ring';
import { measuredCost, reveal, revealClear } from '@si/sharing';
import {
  bitsPerElement, drelu, dreluClear, dreluCost, msb, mulBit, mulBitClear, mulBitCost, relu, reluCost, select, selectClear, selectCost,
  type DreluMode,
} from '../src/index.ts';
import { activations, all, closeAll, EDGES, labeled, randomRing, share, TRANSPORTS } from './_parties.ts';

const MODES: [string, DreluMode][] = [
  ['full', { mode: 'full' }],
  ['small16d4', { mode: 'small-ring', dropLowBits: 4, keepBits: 16 }],
  ['paper16d5', { mode: 'paper', dropLowBits: 5, keepBits: 16 }],
  ['small2', { mode: 'small-ring', dropLowBits: 0, keepBits: 2 }],
  ['small32d12', { mode: 'small-ring', dropLowBits: 12, keepBits: 32 }],
  ['paper20', { mode: 'paper', dropLowBits: 0, keepBits: 20 }],
];

/** Values at the edges of a mode's window: around 0, +-2^d, and +-2^(d+k-1). */
function windowEdges(mode: DreluMode): RingTensor {
  const vals: bigint[] = [...EDGES];
  if (mode.mode !== 'full') {
    const d = BigInt(mode.dropLowBits), k = BigInt(mode.keepBits);
    for (const base of [0n, 1n << d, -(1n << d), ((1n << (k - 1n)) - 1n) << d, -(1n << (d + k - 1n))])
      for (const delta of [-2n, -1n, 0n, 1n, 2n]) vals.push(base + delta);
  }
  return RingTensor.from(vals);
}

const revealBit = async (ps: Parameters<typeof all>[0], bits: Awaited<ReturnType<typeof drelu>>[]) => {
  const opened = await all(ps, (p) => reveal(p, bits[p.id]!.toShared(p), 'both'));
  return opened[0]!;
};

for (const [transport, make] of TRANSPORTS) {
  test(`[${transport}] DReLU equals its twin in every mode (random, edges, window edges); ledger == declared`, async () => {
    const ps = await make();
    try {
      for (const [name, mode] of MODES) {
        for (const [what, x] of [['random', randomRing(`dr-${name}`, 300)], ['edges', windowEdges(mode)], ['acts', activations(`act-${name}`, 300)]] as const) {
          const xs = await share(ps, x);
          const label = `drelu-${name}-${what}`;
          const bits = await labeled(ps, label, (p) => drelu(p, xs[p.id], mode));
          const got = await revealBit(ps, bits);
          const want = dreluClear(xs[0].share!, xs[1].share!, mode);
          assert.equal([...got.data].map(Number), [...want], `${name} ${what}`);
          assert.equal(measuredCost(ps, label), dreluCost(x.size, mode), `${name} ${what} cost`);
        }
      }
    } finally {
      closeAll(ps);
    }
  });

  test(`[${transport}] ReLU = x * DReLU(x) exactly; MSB = 1 - DReLU`, async () => {
    const ps = await make();
    try {
      for (const [name, mode] of MODES.slice(0, 3)) {
        const x = RingTensor.concatChannels([windowEdges(mode).reshape([1, -1]), activations(`r-${name}`, 200).reshape([1, -1])]).reshape([-1]);
        const xs = await share(ps, x);
        const label = `relu-${name}`;
        const ys = await labeled(ps, label, (p) => relu(p, xs[p.id], mode));
        const want = x.mul(RingTensor.from(dreluClear(xs[0].share!, xs[1].share!, mode)));
        assert.ok(revealClear(ys[0].share!, ys[1].share!).equals(want), name);
        assert.equal(measuredCost(ps, label), reluCost(x.size, mode), `${name} cost`);
        const m = await all(ps, (p) => msb(p, xs[p.id], mode));
        const opened = await revealBit(ps, m);
        assert.equal([...opened.data].map(Number), [...dreluClear(xs[0].share!, xs[1].share!, mode)].map((b) => 1 - b));
      }
    } finally {
      closeAll(ps);
    }
  });
}

test('full-mode semantics: DReLU(x) = [x >= 0] on the whole ring, DReLU(0) = 1, DReLU(-1) = 0', async () => {
  const ps = await TRANSPORTS[0]![1]();
  try {
    const x = RingTensor.from([...EDGES, 5n, -5n, 2n ** 63n - 2n, -(2n ** 63n) + 1n]);
    const xs = await share(ps, x);
    const got = await revealBit(ps, await all(ps, (p) => drelu(p, xs[p.id])));
    assert.equal([...got.data], [...x.data].map((v) => (v >= 0n ? 1n : 0n)));
  } finally {
    closeAll(ps);
  }
});

test('truncated semantics: exact inside the documented window, both modes agree', async () => {
  const ps = await TRANSPORTS[0]![1]();
  try {
    const d = 4, k = 16;
    const lo = -(2 ** (d + k - 1)), hi = (2 ** (k - 1) - 1) * 2 ** d;
    const vals = [lo, lo + 1, -(2 ** d) - 1, -(2 ** d) - 17, 0, 1, 15, 16, 17, hi - 1, 12345, -12345];
    for (let i = 0; i < 400; i++) vals.push(Math.floor(lo + ((hi - lo) * i) / 400));
    const inside = vals.filter((v) => v >= 0 || v < -(2 ** d));
    const x = RingTensor.from(inside);
    const xs = await share(ps, x);
    for (const mode of ['small-ring', 'paper'] as const) {
      const got = await revealBit(ps, await all(ps, (p) => drelu(p, xs[p.id], { mode, dropLowBits: d, keepBits: k })));
      assert.equal([...got.data], inside.map((v) => (v >= 0 ? 1n : 0n)), mode);
    }
  } finally {
    closeAll(ps);
  }
});

test('bit products and select equal their twins; ledger == declared', async () => {
  const ps = await TRANSPORTS[0]![1]();
  try {
    const c = activations('c', 64), x = randomRing('x', 64), y = randomRing('y', 64);
    const [cs, xs, ys] = [await share(ps, c), await share(ps, x), await share(ps, y)];
    const bits = await all(ps, (p) => drelu(p, cs[p.id]));
    const b = dreluClear(cs[0].share!, cs[1].share!);
    const prod = await labeled(ps, 'mulbit', (p) => mulBit(p, bits[p.id], xs[p.id]));
    assert.ok(revealClear(prod[0].share!, prod[1].share!).equals(mulBitClear(b, x)));
    assert.equal(measuredCost(ps, 'mulbit'), mulBitCost(64));
    const sel = await labeled(ps, 'select', (p) => select(p, bits[p.id], xs[p.id], ys[p.id]));
    assert.ok(revealClear(sel[0].share!, sel[1].share!).equals(selectClear(b, x, y)));
    assert.equal(measuredCost(ps, 'select'), selectCost(64));
  } finally {
    closeAll(ps);
  }
});

test('declared bits per DReLU meet the targets (research code: 1664 at k=16, 3968 at k=64)', () => {
  const n = 1_000_000;
  const small = bitsPerElement(dreluCost(n, { mode: 'small-ring', dropLowBits: 4, keepBits: 16 }), n);
  const full = bitsPerElement(dreluCost(n, { mode: 'full' }), n);
  assert.ok(small <= 1024, `small-ring k=16: ${small}`);
  assert.ok(full <= 3400, `full: ${full}`);
  assert.throws(() => dreluCost(1, { mode: 'small-ring', dropLowBits: 0, keepBits: 40 }), /"keepBits" expected an integer in \[2, 32\]/);
  assert.throws(() => dreluCost(1, { mode: 'fast' } as unknown as DreluMode), /"mode" expected 'full', 'small-ring' or 'paper'/);
});

test.run();
