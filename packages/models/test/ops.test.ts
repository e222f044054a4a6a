import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { forward, GraphBuilder, type Params } from '../src/index.ts';

const close = (a: ArrayLike<number>, b: ArrayLike<number>, what: string) => {
  assert.is(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) < 1e-5, `${what}[${i}]: ${a[i]} vs ${b[i]}`);
};

test('forward of each node kind equals a hand-computed reference', () => {
  // One 1x4x4 map with values 0..15.
  const x = Float32Array.from({ length: 16 }, (_, i) => i - 5);
  const run = (build: (g: GraphBuilder) => string, params: Params = new Map()) => {
    const g = new GraphBuilder('t', [1, 4, 4]);
    return forward(g.build(build(g)), params, x, 1).out;
  };
  close(run((g) => g.relu('r', g.input, 'r')), Array.from(x, (v) => Math.max(0, v)), 'relu');
  close(run((g) => g.relu('r', g.input, 'r', true)), Array.from(x, (v) => Math.min(6, Math.max(0, v))), 'relu6');
  close(run((g) => g.pool('p', g.input, 'maxpool', 2, 2)), [0, 2, 8, 10], 'maxpool 2x2');
  close(run((g) => g.pool('p', g.input, 'avgpool', 2, 2)), [-2.5, -0.5, 5.5, 7.5], 'avgpool 2x2');
  // 3x3/2 pad 1: the corner window covers 4 pixels (-5, -4, -1, 0): /9 with padding counted, /4 without.
  close(run((g) => g.pool('p', g.input, 'avgpool', 3, 2, 1, true)).slice(0, 1), [-10 / 9], 'avgpool counting pads');
  close(run((g) => g.pool('p', g.input, 'avgpool', 3, 2, 1, false)).slice(0, 1), [-10 / 4], 'avgpool without pads');
  close(run((g) => g.gap('p', g.input)), [2.5], 'global average pooling divides by H*W');
  close(run((g) => g.resize('p', g.input, [2, 2], 'nearest')), [-5, -3, 3, 5], 'nearest');
  // Bilinear 4 -> 8 with half-pixel centres: output 1 sits at input 0.25 -> -5 + 0.25 = -4.75 on the first row.
  close(run((g) => g.resize('p', g.input, [8, 8], 'bilinear')).slice(0, 4), [-5, -4.75, -4.25, -3.75], 'bilinear');
  close(run((g) => g.concat('c', [g.input, g.input])), [...x, ...x], 'concat');
  const bn: Params = new Map([['b.weight', Float32Array.of(2)], ['b.bias', Float32Array.of(1)], ['b.running_mean', Float32Array.of(3)], ['b.running_var', Float32Array.of(4)]]);
  close(run((g) => g.batchnorm('b', g.input, 0), bn), Array.from(x, (v) => ((v - 3) / 2) * 2 + 1), 'batch norm (inference)');
  const lin: Params = new Map([['l.weight', Float32Array.from({ length: 32 }, (_, i) => (i % 16 === 0 ? 1 : i === 31 ? -1 : 0))], ['l.bias', Float32Array.of(0.5, 0)]]);
  close(run((g) => g.linear('l', g.flatten('f', g.input), 2), lin), [-5 + 0.5, -5 - 10], 'linear');
  const conv: Params = new Map([['c.weight', Float32Array.of(1, 0, 0, 1)], ['c.bias', Float32Array.of(10)]]);
  close(run((g) => g.conv('c', g.input, { out: 1, kernel: 2, bias: true }), conv).slice(0, 3), [-5 + 0 + 10, -4 + 1 + 10, -3 + 2 + 10], 'conv');
  close(run((g) => g.add('a', g.input, g.input)), Array.from(x, (v) => 2 * v), 'add');
});

test.run();
