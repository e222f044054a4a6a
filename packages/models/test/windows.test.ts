import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeFixed } from '@si/ring';
import { compileFixed, GraphBuilder, windowLimits, windowReport } from '../src/index.ts';

const SMALL16 = { mode: 'small-ring' as const, dropLowBits: 4, keepBits: 16 };
const f = 12;

test('window limits: small16 at f = 12 is exact on [-128, 128) with a resolution of 2^-8; full mode has none', () => {
  assert.equal(windowLimits(SMALL16, f), { limit: 128, resolution: 2 ** -8 });
  assert.is(windowLimits({ mode: 'full' }, f), null);
});

test('a ReLU layer: values beyond +-128 and in the sliver [-2^-8, 0) are out of the window; in full mode nothing is', async () => {
  const g = new GraphBuilder('w', [1, 2, 4]);
  const graph = g.build(g.relu('r', g.input, 'r'));
  const m = compileFixed(graph, new Map(), f);
  // 8 values: 3 far outside (+-200, 1000), 1 in the sliver (-2^-10), 4 inside.
  const x = encodeFixed([200, -200, 1000, -(2 ** -10), 1, -1, 127, -127.5], f, [1, 1, 2, 4]);
  const r = await windowReport(m, x, SMALL16);
  assert.is(r.layers.length, 1);
  const L = r.layers[0]!;
  assert.equal([L.node, L.kind, L.compared, L.outOfWindow, L.beyondRange], ['r', 'relu', 8, 4, 3]);
  assert.ok(L.signErrors <= 4, `${L.signErrors} sign errors, only out-of-window values can be wrong`);
  // 200, -200 and 1000 at 12 bits, 4 bits dropped, wrap in 16 bits to -14336, 14336 and -6144 (one unit
  // either way from the share split does not matter): three wrong signs, every time.
  assert.is(L.wrapErrors, 3);
  // The sliver value -2^-10 is -1 or 0 after dropping 4 bits (the split decides): a tiny error or none.
  assert.ok(L.signErrors - L.wrapErrors === 0 || L.signErrors - L.wrapErrors === 1, `${L.signErrors} sign errors`);
  assert.is(r.maxOutOfWindow, 0.5);
  const full = await windowReport(m, x, { mode: 'full' });
  assert.equal([full.layers[0]!.outOfWindow, full.layers[0]!.signErrors], [0, 0]);
});

test('a patch layer compares patch sums in its widened window; a max pool compares differences (twice the range)', async () => {
  const g = new GraphBuilder('p', [2, 4, 4]);
  const graph = g.build(g.pool('mp', g.relu('r', g.input, 'r'), 'maxpool', 2, 2));
  const m = compileFixed(graph, new Map(), f);
  // Channel 0: 2x2 patches of 4 values of 100: sums 400, beyond 128 but inside the 2x2 group's window
  // (two more bits). Channel 1: plain ReLUs on -100 / 100.
  const v = [...new Array(16).fill(100), ...Array.from({ length: 16 }, (_, i) => (i % 2 ? 100 : -100))];
  const x = encodeFixed(v, f, [1, 2, 4, 4]);
  const r = await windowReport(m, x, SMALL16, { spec: { r: [[2, 2], [1, 1]] } });
  const relu = r.layers.find((l) => l.node === 'r')!;
  assert.equal([relu.kind, relu.compared, relu.outOfWindow], ['patch', 4 + 16, 0]);
  // Max pool after the ReLU: channel 1 holds 0 and 100, channel 0 holds 100s: differences within 100: inside.
  const mp = r.layers.find((l) => l.node === 'mp')!;
  assert.is(mp.kind, 'maxpool');
  assert.is(mp.compared, 2 * 4 * 3, 'three comparisons per 2x2 window');
  assert.is(mp.outOfWindow, 0);
  // Values of +-100 straight into a max pool: differences of 200 leave the window although each value is inside.
  const g2 = new GraphBuilder('q', [1, 2, 2]);
  const m2 = compileFixed(g2.build(g2.pool('mp', g2.input, 'maxpool', 2, 2)), new Map(), f);
  const r2 = await windowReport(m2, encodeFixed([100, -100, -100, 100], f, [1, 1, 2, 2]), SMALL16);
  assert.ok(r2.layers[0]!.outOfWindow >= 1, `${JSON.stringify(r2.layers[0])}`);
});

test('a ReLU6 layer also compares y - 6 per pixel of the channels not zeroed', async () => {
  const g = new GraphBuilder('six', [2, 1, 2]);
  const m = compileFixed(g.build(g.relu('r6', g.input, 'r6', true)), new Map(), f);
  const x = encodeFixed([1, 500, 3, 4], f, [1, 2, 1, 2]); // channel 0: 1, 500; channel 1: 3, 4
  const plain = await windowReport(m, x, SMALL16);
  // Lower: 4 pixels (500 out); upper: 4 pixels (500 - 6 out).
  assert.equal([plain.layers[0]!.kind, plain.layers[0]!.compared, plain.layers[0]!.outOfWindow], ['clip', 8, 2]);
  // Zero the channel holding 500: it compares nothing, and nothing left is out of the window.
  const zeroed = await windowReport(m, x, SMALL16, { spec: { r6: [[1, 0], [1, 1]] } });
  assert.equal([zeroed.layers[0]!.compared, zeroed.layers[0]!.outOfWindow], [2 + 2, 0], 'the zeroed channel compares nothing');
});

test.run();
