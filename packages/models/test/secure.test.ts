import { test } from 'uvu';
import * as assert from 'uvu/assert';
import seedrandom from 'seedrandom';
import { decodeFixed, encodeFixed } from '@si/ring';
import { localParties, measuredCost, reveal, shareInput, totalBytes } from '@si/sharing';
import {
  compileFixed, fixedForward, simulateForward, windowReport, forward, GraphBuilder, initParams, publicView, secureForward, secureForwardCost, setupSecure, prepareSecure, prepareSecureCost, type Params,
} from '../src/index.ts';

const r = seedrandom('secure');
const rand = (n: number, s = 1) => Float32Array.from({ length: n }, () => (r() * 2 - 1) * s);

/** Every node kind a secure run supports. */
function net() {
  const g = new GraphBuilder('all_ops', [3, 8, 8]);
  const a = g.convBn('c1', g.input, { out: 8, kernel: 3, padding: 1 }, 'l1');
  const b = g.relu('r2', g.add('add', g.convBn('c2', a, { out: 8, kernel: 3, padding: 1 }), a), 'l2');
  const p1 = g.pool('avg', b, 'avgpool', 3, 2, 1, true);
  const p2 = g.pool('avg2', b, 'avgpool', 3, 2, 1, false);
  const p3 = g.pool('max', b, 'maxpool', 2, 2);
  const cat = g.concat('cat', [p1, p2, p3]);
  const p4 = g.node('avgpool', 'avg_ceil', [b], { kernel: 3, stride: 2, padding: 1, countIncludePad: false, ceil: true }); // 8x8 -> 5x5
  const pooled = g.concat('cat_gap', [g.gap('gap0', cat), g.gap('gap_ceil', p4)]);
  const img = g.resize('up', g.convBn('pool_branch', pooled, { out: 4, kernel: 1 }, 'l3'), [4, 4], 'bilinear');
  const d = g.convBn('c3', g.concat('cat2', [cat, img]), { out: 8, kernel: 3, stride: 2, padding: 1, groups: 4 }, 'l4');
  const h = g.relu('fc1.relu', g.linear('fc1', g.flatten('flat', g.gap('gap', d)), 12), 'l5');
  return g.build(g.linear('fc2', h, 5));
}

/** Synthetic weights with batch-norm statistics measured on random inputs, so activations are O(1). */
function calibrated(graph: ReturnType<typeof net>): Params {
  const params = initParams(graph, 11);
  for (const [k, v] of params) if (k.endsWith('.bn.weight')) v.set(Float32Array.from(v, () => 0.5 + r()));
  const x = rand(16 * 3 * 64);
  for (let i = 0; i < 5; i++) forward(graph, params, x, 16, { training: true });
  for (const [k, v] of params) if (k.endsWith('.bn.running_var')) for (let i = 0; i < v.length; i++) v[i] = v[i]! > 1e-3 ? v[i]! : 1;
  return params;
}

test('secure logits equal the fixed-point twin within the truncation tolerance (all ops, patch specs, batch 2)', async () => {
  const graph = net();
  const params = calibrated(graph);
  const f = 12;
  const model = compileFixed(graph, params, f);
  const spec = {
    l1: Array.from({ length: 8 }, (_, c) => [[1, 1], [0, 1], [1, 0], [2, 2], [3, 1], [9, 9], [2, 4], [1, 1]][c]! as [number, number]),
    l2: Array.from({ length: 8 }, (_, c) => (c % 2 ? [2, 2] : [1, 1]) as [number, number]),
    l5: Array.from({ length: 12 }, (_, c) => (c % 3 === 0 ? [0, 1] : [1, 1]) as [number, number]),
  };
  const N = 2;
  const xf = rand(N * 3 * 64);
  const x = encodeFixed(xf, f, [N, 3, 8, 8]);
  const twin = await fixedForward(model, x, { spec });
  // The float model and the twin agree closely (fixed point at 12 bits).
  const fl = forward(graph, params, xf, N, { spec }).out;
  const tw = decodeFixed(twin, f);
  for (let i = 0; i < fl.length; i++) assert.ok(Math.abs(tw[i]! - fl[i]!) < 0.05, `twin vs float ${i}: ${tw[i]} vs ${fl[i]}`);
  // The default mode too: small16 (drop 4 bits, keep 16) is exact only inside its window. On these inputs
  // no compared value is beyond its range (checked with the window report; a few sit within 2^-8 below
  // 0, where a sign may flip at a cost below the resolution), so the secure run must equal the twin
  // within the truncation tolerance in that mode as well.
  const SMALL16 = { mode: 'small-ring' as const, dropLowBits: 4, keepBits: 16 };
  const w = await windowReport(model, x, SMALL16, { spec });
  assert.is(w.maxBeyondRange, 0, `beyond the small16 window: ${JSON.stringify(w.layers.filter((l) => l.beyondRange))}`);
  // The two-hop sign test: small16's windows for plain ReLUs, one round fewer per ReLU layer; its patch
  // sums are compared at 2^(d+e) resolution, so a patch whose sum lies in [-2^(d+e), 0) may pass whole
  // (the patch record's tolerance, exercised in @si/patch-relu). Its run takes the first of a few seeded
  // inputs with no patch sum in that band (the window report counts them), so it must equal the twin
  // within the truncation tolerance as well.
  const TWOHOP = { ...SMALL16, hops: 2 as const };
  let x2 = x;
  for (let t = 0; ; t++) {
    const rep = await windowReport(model, x2, TWOHOP, { spec });
    const inBand = rep.layers.filter((l) => l.kind === 'patch').reduce((s, l) => s + l.outOfWindow, 0);
    if (inBand === 0) break;
    assert.ok(t < 20, `no input among 20 without a patch sum in the two-hop band (last: ${inBand})`);
    const rt = seedrandom(`two-hop input ${t}`);
    x2 = encodeFixed(Float32Array.from({ length: N * 3 * 64 }, () => rt() * 2 - 1), f, [N, 3, 8, 8]);
  }
  const tw2 = decodeFixed(await fixedForward(model, x2, { spec }), f);
  const rounds: number[] = [];
  for (const mode of [{ mode: 'full' as const }, { mode: 'small-ring' as const, dropLowBits: 0, keepBits: 24 }, SMALL16, TWOHOP]) {
    const xm = mode === TWOHOP ? x2 : x, want = mode === TWOHOP ? tw2 : tw;
    const prepared = mode.mode !== 'full';
    const parties = await localParties();
    const outs = await Promise.all(parties.map(async (p) => {
      const sm = await setupSecure(p, p.id === 1 ? model : publicView(model));
      const xs = shareInput(p, 0, xm.shape, p.id === 0 ? xm : undefined);
      // The truncated mode also runs with the linear layers' input-independent half done ahead.
      const pre = prepared ? await p.scope('pre', (q) => prepareSecure(q, sm, N), 'preprocess') : undefined;
      const y = await p.scope('infer', (q) => secureForward(q, sm, xs, { spec, mode, pre }));
      return reveal(p, y, 'client');
    }));
    const got = decodeFixed(outs[0]!, f);
    // Local truncation adds at most one unit (2^-12) per truncation; through this network the logits stay
    // within 0.01 of the twin (measured worst case about 2e-3).
    for (let n = 0; n < N; n++) {
      const row = (a: ArrayLike<number>) => Array.from({ length: 5 }, (_, c) => a[n * 5 + c]!);
      const argmax = (v: number[]) => v.indexOf(Math.max(...v));
      assert.is(argmax(row(got)), argmax(row(want)), `top-1 of image ${n} (${JSON.stringify(mode)})`);
      for (let c = 0; c < 5; c++) assert.ok(Math.abs(row(got)[c]! - row(want)[c]!) < 0.01, `image ${n} logit ${c}: ${row(got)[c]} vs ${row(want)[c]} (${JSON.stringify(mode)})`);
    }
    // Every protocol node's traffic and rounds equal its declaration, and nothing else is sent.
    const declared = await secureForwardCost(publicView(model), N, { spec, mode, prepared });
    if (prepared) {
      const want = [...(await prepareSecureCost(model, N)).values()].reduce((s, c) => s + totalBytes(c), 0);
      assert.is(totalBytes(measuredCost(parties, 'pre', 'preprocess')), want, 'preprocessing bytes');
      assert.ok(want > 0);
    }
    let sum = 0;
    for (const [name, c] of declared) {
      const got = measuredCost(parties, `infer/${name}`);
      assert.equal(got.bytes, c.bytes, `${name} bytes (${mode.mode})`);
      assert.is(got.rounds, c.rounds, `${name} rounds (${mode.mode})`);
      sum += totalBytes(c);
    }
    const online = totalBytes(measuredCost(parties, 'infer'));
    assert.is(online, sum, `online bytes ${online} vs declared ${sum}`);
    rounds.push(measuredCost(parties, 'infer').rounds);
    const setup = totalBytes(measuredCost(parties, 'fc2', 'setup'));
    assert.ok(online > 0 && setup === 8 * 12 * 5, `online ${online}, fc2 setup ${setup}`);
    for (const p of parties) p.close();
  }
  // Seven sign tests on the critical path (the ReLU and patch layers, the 2x2 max pool's two levels), each one round shorter.
  assert.is(rounds[2]! - rounds[3]!, 7, `online rounds small16 ${rounds[2]}, two-hop ${rounds[3]}`);
});

test('simulateForward: the secure arithmetic in cleartext, within the same tolerance of the twin; it models the comparison window', async () => {
  const graph = net();
  const params = calibrated(graph);
  const f = 12;
  const model = compileFixed(graph, params, f);
  const N = 4;
  const x = encodeFixed(rand(N * 3 * 64), f, [N, 3, 8, 8]);
  const twin = decodeFixed(await fixedForward(model, x), f);
  const sim = decodeFixed(await simulateForward(model, x, { mode: { mode: 'small-ring', dropLowBits: 0, keepBits: 24 } }), f);
  let diff = 0;
  for (let i = 0; i < twin.length; i++) {
    assert.ok(Math.abs(sim[i]! - twin[i]!) < 0.01, `logit ${i}: ${sim[i]} vs ${twin[i]}`);
    diff = Math.max(diff, Math.abs(sim[i]! - twin[i]!));
  }
  assert.ok(diff > 0, 'local truncation rounds up now and then');
  // A 3-bit window cannot hold activations of about 2^12 units: signs become arbitrary.
  const tiny = decodeFixed(await simulateForward(model, x, { mode: { mode: 'small-ring', dropLowBits: 0, keepBits: 3 } }), f);
  assert.ok(tiny.some((v, i) => Math.abs(v - twin[i]!) > 0.05), 'an overflowing window changes the logits');
});

test('a batch\'s preprocessing is single-use and bound to its batch size', async () => {
  const graph = net();
  const model = compileFixed(graph, calibrated(graph), 12);
  const parties = await localParties();
  try {
    const got = await Promise.all(parties.map(async (p) => {
      const sm = await setupSecure(p, p.id === 1 ? model : publicView(model));
      const pre = await p.scope('pre', (q) => prepareSecure(q, sm, 1), 'preprocess');
      const x = encodeFixed(rand(3 * 64), 12, [1, 3, 8, 8]);
      const xs = shareInput(p, 0, x.shape, p.id === 0 ? x : undefined);
      await p.scope('once', (q) => secureForward(q, sm, xs, { pre }));
      const again = await p.scope('twice', (q) => secureForward(q, sm, xs, { pre })).then(() => '', (e: Error) => e.message);
      const other = await prepareSecure(p, sm, 2).then((pre2) => p.scope('wrong', (q) => secureForward(q, sm, xs, { pre: pre2 }))).then(() => '', (e: Error) => e.message);
      return [again, other];
    }));
    for (const [again, other] of got) {
      assert.match(again!, /this preprocessing was already used: a second batch masked with the same randomness would show the server the difference of the two/);
      assert.match(other!, /preprocessing for a batch of 2 used for a batch of 1/);
    }
  } finally {
    for (const p of parties) p.close();
  }
});

test('unfoldable batch norms are refused at compile time, naming the node', () => {
  const h = new GraphBuilder('bad2', [1, 4, 4]);
  const graph2 = h.build(h.batchnorm('bn', h.input));
  assert.throws(() => compileFixed(graph2, initParams(graph2)), /batch norm "bn" must follow a convolution to be folded/);
  const k = new GraphBuilder('bad3', [1, 4, 4]);
  const c = k.conv('c', k.input, { out: 2, kernel: 1 });
  const graph3 = k.build(k.add('sum', k.batchnorm('bn', c), c));
  assert.throws(() => compileFixed(graph3, initParams(graph3)), /batch norm "bn": its convolution "c" has other readers, so it cannot be folded/);
});

test.run();
