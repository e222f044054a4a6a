import { test } from 'uvu';
import * as assert from 'uvu/assert';
import seedrandom from 'seedrandom';
import { backward, BufferPool, crossEntropy, forward, GraphBuilder, initParams, release, releaseGrads, Sgd, type Params } from '../src/index.ts';

const r = seedrandom('engine');
const rand = (n: number, s = 1) => Float32Array.from({ length: n }, () => (r() * 2 - 1) * s);

/** A small graph that uses every node kind. */
function tiny() {
  const g = new GraphBuilder('tiny', [3, 8, 8]);
  let x = g.convBn('c1', g.input, { out: 6, kernel: 3, padding: 1, stride: 1 }, 'l1');
  const a = g.conv('dw', x, { out: 6, kernel: 3, padding: 2, dilation: 2, groups: 6, bias: true });
  const b = g.relu('r6', g.batchnorm('bn2', g.conv('grp', x, { out: 6, kernel: 1, groups: 2 })), 'l2', true);
  x = g.relu('sum.relu', g.add('sum', a, b), 'l3');
  const p1 = g.pool('avg', x, 'avgpool', 3, 2, 1, false);
  const p2 = g.pool('max', x, 'maxpool', 2, 2);
  const up = g.resize('up', g.conv('c3', p2, { out: 2, kernel: 1 }), [4, 4], 'bilinear');
  x = g.concat('cat', [p1, up]);
  const n = g.resize('near', x, [5, 5], 'nearest');
  return g.build(g.linear('fc', g.flatten('flat', g.gap('gap', n)), 4));
}

function randomize(params: Params): void {
  for (const [k, v] of params) {
    if (k.endsWith('running_var')) v.set(Float32Array.from(v, () => 0.5 + r()));
    else if (k.endsWith('running_mean')) v.set(rand(v.length, 0.2));
    else if (k.includes('bn') && k.endsWith('weight')) v.set(Float32Array.from(v, () => 0.5 + r()));
    else v.set(rand(v.length, 0.5));
  }
}

test('backward equals finite differences for every node kind (training-mode batch norm, patch ReLUs)', () => {
  const g = tiny();
  const params = initParams(g, 1);
  randomize(params);
  const N = 2, x = rand(N * 3 * 64);
  const spec = { l3: Array.from({ length: 6 }, (_, c) => (c % 3 === 0 ? [2, 2] : c % 3 === 1 ? [0, 1] : [1, 1]) as [number, number]) };
  const wOut = rand(N * 4);
  const loss = (p: Params): number => {
    const copy = new Map([...p].map(([k, v]) => [k, v.slice()]));
    const { out } = forward(g, copy, x, N, { training: true, spec });
    let s = 0;
    for (let i = 0; i < out.length; i++) s += out[i]! * wOut[i]!;
    return s;
  };
  const frozen = new Map([...params].map(([k, v]) => [k, v.slice()]));
  const { trace } = forward(g, frozen, x, N, { training: true, spec });
  const { grads } = backward(trace, frozen, wOut);
  // Central differences at two step sizes; where they disagree the step crossed a kink (a ReLU, ReLU6,
  // max or patch decision flipping) and the point is skipped. Almost all points are smooth.
  const fd = (name: string, p: Float32Array, i: number, h: number): number => {
    const pp = p.slice(), pm = p.slice();
    pp[i]! += h;
    pm[i]! -= h;
    return (loss(new Map(params).set(name, pp)) - loss(new Map(params).set(name, pm))) / (2 * h);
  };
  let checked = 0, skipped = 0;
  for (const [name, p] of params) {
    if (name.includes('running')) continue;
    const grad = grads.get(name)!;
    assert.ok(grad, `gradient for ${name}`);
    for (let t = 0; t < 4; t++) {
      const i = Math.floor(r() * p.length);
      const a = fd(name, p, i, 2e-3), b = fd(name, p, i, 1e-3);
      if (Math.abs(a - b) > 1e-2 * (1 + Math.abs(b))) {
        skipped++;
        continue;
      }
      assert.ok(Math.abs(grad[i]! - b) <= 5e-3 * (1 + Math.abs(b)), `${name}[${i}]: backward ${grad[i]} vs finite difference ${b}`);
      checked++;
    }
  }
  assert.ok(checked >= 30 && skipped <= checked / 4, `checked ${checked}, skipped ${skipped}`);
});

test('inference forward matches training forward in eval statistics; captures activations', () => {
  const g = tiny();
  const params = initParams(g, 2);
  randomize(params);
  const x = rand(3 * 64);
  const a = forward(g, params, x, 1, { capture: ['sum.relu'] });
  const b = forward(g, params, x, 1, { keep: true });
  assert.equal([...a.out], [...b.out]);
  assert.is(a.captured.get('sum.relu')!.length, 6 * 64);
  assert.throws(() => forward(g, params, x, 2), /input has 192 values, expected 2 x \[3,8,8\]/);
  const miss = new Map(params);
  miss.delete('fc.weight');
  assert.throws(() => forward(g, miss, x, 1), /missing parameter "fc.weight"/);
});

test('inference-mode backward: input and activation gradients equal finite differences of the eval network', () => {
  const g = tiny();
  const params = initParams(g, 3);
  randomize(params);
  const x = rand(3 * 64), wOut = rand(4);
  const loss = (v: Float32Array, given?: Map<string, Float32Array>): number => {
    const { out } = forward(g, params, v, 1, given ? { given } : {});
    return out.reduce((s, o, i) => s + o * wOut[i]!, 0);
  };
  const { trace } = forward(g, params, x, 1, { keep: true, capture: ['sum.relu'] });
  const { dInput, captured, grads } = backward(trace, params, wOut, true, ['sum.relu']);
  assert.not.ok(grads.has('c1.bn.weight'), 'no batch-norm parameter gradients without batch statistics');
  const act = forward(g, params, x, 1, { capture: ['sum.relu'] }).captured.get('sum.relu')!;
  const dAct = captured.get('sum.relu')!;
  let checked = 0;
  for (let t = 0; t < 12; t++) {
    const i = Math.floor(r() * x.length), j = Math.floor(r() * act.length), h = 1e-3;
    const xp = x.slice(), xm = x.slice();
    xp[i]! += h;
    xm[i]! -= h;
    const fdx = (loss(xp) - loss(xm)) / (2 * h);
    const ap = act.slice(), am = act.slice();
    ap[j]! += h;
    am[j]! -= h;
    const fda = (loss(x, new Map([['sum.relu', ap]])) - loss(x, new Map([['sum.relu', am]]))) / (2 * h);
    if (Math.abs(dInput![i]! - fdx) <= 5e-3 * (1 + Math.abs(fdx))) checked++;
    assert.ok(Math.abs(dAct[j]! - fda) <= 5e-3 * (1 + Math.abs(fda)), `activation ${j}: backward ${dAct[j]} vs finite difference ${fda}`);
  }
  assert.ok(checked >= 10, `input gradient matched at ${checked}/12 points (the rest crossed a kink)`);
});

test('given node values: the rest of the network from cached activations equals the full forward', () => {
  const g = tiny();
  const params = initParams(g, 4);
  randomize(params);
  const N = 2, x = rand(N * 3 * 64);
  const spec = { l3: Array.from({ length: 6 }, (_, c) => (c === 2 ? [2, 4] : [1, 1]) as [number, number]) };
  const before = g.nodes.slice(0, g.nodes.findIndex((n) => n.name === 'sum.relu')).map((n) => n.name);
  const clean = forward(g, params, x, N, { capture: before });
  const full = forward(g, params, x, N, { spec });
  const part = forward(g, params, new Float32Array(x.length), N, { spec, given: clean.captured });
  assert.equal([...part.out], [...full.out]);
  assert.equal([...forward(g, params, x, N, { given: clean.captured }).out], [...clean.out]);
  assert.throws(() => forward(g, params, x.subarray(0, 3 * 64), 1, { given: clean.captured }), /given value of "[^"]+" has \d+ values/);
});

test('the pool keeps only buffers it made: training with patch ReLUs does not grow it step after step', () => {
  const pool = new BufferPool();
  pool.release(new Float32Array(10));
  assert.is(pool.bytes, 0, 'a foreign buffer is not kept');
  const mine = pool.f32(10);
  pool.release(mine);
  assert.is(pool.bytes, 40);
  assert.is(pool.f32(10), mine);
  const g = tiny();
  const params = initParams(g, 5);
  const spec = { l3: Array.from({ length: 6 }, () => [2, 2] as [number, number]) };
  const x = rand(2 * 3 * 64);
  const step = () => {
    const { trace } = forward(g, params, x, 2, { training: true, spec, pool });
    const { grads } = backward(trace, params, rand(8));
    release(trace);
    releaseGrads(grads, pool);
  };
  step();
  const held = pool.bytes;
  for (let i = 0; i < 5; i++) step();
  assert.is(pool.bytes, held, `pool grew from ${held} to ${pool.bytes} bytes`);
});

test('a few SGD steps reduce the cross-entropy of a fixed batch', () => {
  const g = tiny();
  const params = initParams(g, 3);
  const N = 8, x = rand(N * 192), labels = Array.from({ length: N }, (_, i) => i % 4);
  const opt = new Sgd(params, { momentum: 0.9, weightDecay: 1e-4 });
  const first = crossEntropy(forward(g, params, x, N, { training: true }).out, labels, 4).loss;
  for (let s = 0; s < 30; s++) {
    const { out, trace } = forward(g, params, x, N, { training: true });
    const { dLogits } = crossEntropy(out, labels, 4);
    opt.step(backward(trace, params, dLogits).grads, 0.05);
  }
  const after = crossEntropy(forward(g, params, x, N, { training: true }).out, labels, 4).loss;
  assert.ok(after < first * 0.5, `loss ${first} -> ${after}`);
});

test.run();
