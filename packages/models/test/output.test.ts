import { test } from 'uvu';
import * as assert from 'uvu/assert';
import seedrandom from 'seedrandom';
import { encodeFixed } from '@si/ring';
import { measuredCost, type Party } from '@si/sharing';
import { closeAll, expectCost, scoped, shareValue, TRANSPORTS, type Trio } from '@si/sharing/testing';
import {
  classifyCost, compileFixed, forward, GraphBuilder, initParams, parseMode, parseReveal, publicView, secureClassify, setupSecure, twinClassify, RevealError, type FixedModel, type Graph, type Reveal,
} from '../src/index.ts';

const r = seedrandom('output');
const rand = (n: number, s = 1) => Float32Array.from({ length: n }, () => (r() * 2 - 1) * s);
const f = 12;

// No truncation before the output layer (which secureClassify leaves untruncated): the secure output
// equals the twin's exactly, so every reveal mode must too. `deep` adds a conv (and its local truncation).
function classifier(deep = false): Graph {
  const g = new GraphBuilder('cls', [2, 6, 6]);
  const a = deep ? g.relu('r1', g.conv('c1', g.input, { out: 4, kernel: 3, padding: 1 }), 'l1') : g.relu('r1', g.input, 'l1');
  return g.build(g.linear('fc', g.flatten('flat', a), 7));
}

/** Per-pixel classes: output [N, 5, 6, 6]. */
function segmenter(): Graph {
  const g = new GraphBuilder('seg', [2, 6, 6]);
  return g.build(g.conv('head', g.relu('r1', g.input, 'l1'), { out: 5, kernel: 1 }));
}

const N = 3;
const input = (g: Graph) => encodeFixed(rand(N * 72), f, [N, ...g.inputShape]);

async function run(ps: Trio, label: string, model: FixedModel, x: ReturnType<typeof input>, what: Reveal) {
  const xs = shareValue(x);
  const [out] = await scoped(ps, label, async (q: Party) => {
    const sm = await setupSecure(q, q.id === 1 ? model : publicView(model));
    return secureClassify(q, sm, xs[q.id]!, what);
  });
  return out!;
}

for (const [transport, make] of TRANSPORTS) {
  test(`[${transport}] every reveal mode equals its twin; the output stage's ledger == declared; server and helper learn nothing`, async () => {
    const ps = (await make()) as Trio;
    try {
      for (const graph of [classifier(), segmenter()]) {
        const model = compileFixed(graph, initParams(graph, 3), f);
        const x = input(graph);
        // 'label/twohop': a two-hop session, whose classifier argmax uses the two-hop test too.
        const modes = graph.name === 'cls' ? ['label', 'topk:3', 'topk:7', 'logits', 'label/twohop'] : ['label', 'logits', 'label/twohop'];
        for (const [i, full] of modes.entries()) {
          const [name, session] = full.split('/') as [string, string | undefined];
          const mode = session ? parseMode('twohop16') : undefined;
          const what = parseReveal(name);
          const label = `${graph.name}${i}`;
          const xs = shareValue(x);
          const outs = await scoped(ps, label, async (q) => secureClassify(q, await setupSecure(q, q.id === 1 ? model : publicView(model)), xs[q.id]!, what, mode ? { mode } : {}));
          assert.is(outs[1], null, 'the server learns nothing');
          assert.is(outs[2], null, 'the helper learns nothing');
          const got = outs[0]!, want = await twinClassify(model, x, what);
          assert.equal(got.labelShape, graph.name === 'cls' ? [N] : [N, 6, 6], `${label} label shape`);
          assert.equal([...got.labels], [...want.labels], `${label} ${name}: labels`);
          if (what.kind === 'topk') assert.equal([...got.topk!], [...want.topk!], `${label}: top-${what.k}`);
          else assert.is(got.topk, undefined);
          if (what.kind === 'logits') {
            // truncateDealt: floor(y / 2^f) or one unit more; the twin floors.
            const ulp = 2 ** -f;
            assert.equal(got.logits!.shape, [N, ...graph.node(graph.output).shape]);
            got.logits!.data.forEach((v, j) => assert.ok(v - want.logits!.data[j]! === 0 || Math.abs(v - want.logits!.data[j]! - ulp) < 1e-12, `${label} logit ${j}: ${v} vs ${want.logits!.data[j]}`));
          } else assert.is(got.logits, undefined, `${label}: no logits in ${name} mode`);
          expectCost(measuredCost(ps, `${label}/output`), classifyCost(model, N, what, mode), `${label} ${full} output cost`);
          if (session && graph.name === 'cls') assert.is(classifyCost(model, N, what, mode).rounds, classifyCost(model, N, what).rounds - 2, 'two-hop: 4 rounds per level instead of 6');
        }
      }
    } finally {
      closeAll(ps);
    }
  });
}

test('label mode: labels agree with the float model; top-1 is the first of topk', async () => {
  const graph = classifier();
  const params = initParams(graph, 5);
  const model = compileFixed(graph, params, f);
  const xf = rand(N * 72);
  const x = encodeFixed(xf, f, [N, 2, 6, 6]);
  const fl = forward(graph, params, xf, N).out;
  const lab = await twinClassify(model, x, { kind: 'label' });
  const top = await twinClassify(model, x, { kind: 'topk', k: 7 });
  for (let n = 0; n < N; n++) {
    const row = Array.from(fl.subarray(n * 7, (n + 1) * 7));
    const order = row.map((v, c) => [v, c] as const).sort((a, b) => b[0] - a[0]).map(([, c]) => c);
    assert.is(lab.labels[n], order[0], `image ${n}`);
    assert.equal([...top.topk!.subarray(n * 7, n * 7 + 3)], order.slice(0, 3), `image ${n} top-3`);
  }
});

test('label mode: the client receives the same bytes, message for message, whatever the server\'s weights; it opens only class indices', async () => {
  const graph = classifier(true);
  const x = input(graph);
  const ps = (await TRANSPORTS[0]![1]()) as Trio;
  try {
    const views: Record<string, number>[][] = [];
    for (const seed of [1, 2]) {
      const model = compileFixed(graph, initParams(graph, seed), f);
      const label = `w${seed}`;
      const out = await run(ps, label, model, x, { kind: 'label' });
      assert.ok([...out.labels].every((c) => Number.isInteger(c) && c >= 0 && c < 7), `indices: ${[...out.labels]}`);
      assert.equal(Object.keys(out).sort(), ['labelShape', 'labels']);
      const rows = ps[0].ledger.rows().filter((row) => row.label.startsWith(`${label}/`));
      views.push(rows.map((row) => ({ [row.label.slice(label.length)]: row.messagesReceived, ...row.received })));
    }
    assert.equal(views[0], views[1]);
    // The final opening is the only message into the client in the output scope after the argmax: N indices.
    const opening = ps[0].ledger.rows().find((row) => row.label === 'w1/output/reveal')!;
    assert.equal(opening.received, { server: 8 * N });
  } finally {
    closeAll(ps);
  }
});

test('reveal modes: clear errors for bad names and for outputs they do not fit', async () => {
  assert.throws(() => parseReveal('top5'), (e: Error) => e instanceof RevealError && /unknown reveal mode "top5"/.test(e.message));
  assert.throws(() => parseReveal('topk:0'), /topk:K with K >= 1/);
  const seg = compileFixed(segmenter(), initParams(segmenter(), 1), f);
  assert.throws(() => classifyCost(seg, 1, { kind: 'topk', k: 2 }), /topk needs a classifier's output \[N, classes\]; "seg" outputs \[1,5,6,6\]/);
  const cls = compileFixed(classifier(), initParams(classifier(), 1), f);
  assert.throws(() => classifyCost(cls, 1, { kind: 'topk', k: 8 }), /topk:8 asks for more classes than the model's 7/);
});

test.run();
