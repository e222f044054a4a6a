import { encodeFixed } from '@si/ring';
import { localParties, shareInput, reveal } from '@si/sharing';
import { compileFixed, publicView, setupSecure, secureForward } from '@si/models';
import { graphOf, loadSpec, loadWeights, randomImages } from './src/index.ts';
const name = process.argv[2] ?? 'resnet50';
const graph = graphOf(name);
const spec = loadSpec(graph, 'knapsack:0.06')!;
const model = compileFixed(graph, loadWeights(graph, 'synthetic:0'), 12);
const parties = await localParties();
const sms = await Promise.all(parties.map((p) => setupSecure(p, p.id === 1 ? model : publicView(model))));
const x = encodeFixed(randomImages(graph.inputShape, 1, 'p'), 12, [1, ...graph.inputShape]);
for (let rep = 0; rep < 2; rep++) {
  const timings = parties.map(() => new Map<string, number>());
  const t0 = performance.now();
  await Promise.all(parties.map(async (p) => {
    const y = await secureForward(p, sms[p.id]!, shareInput(p, 0, x.shape, p.id === 0 ? x : undefined), { spec: spec.layers, mode: { mode: 'small-ring', dropLowBits: 4, keepBits: 16 }, timings: timings[p.id] });
    await reveal(p, y, 'client');
  }));
  const t = (performance.now() - t0) / 1000;
  const sum = (op: string) => [...timings[1]!].filter(([k]) => graph.node(k).op === op).reduce((s, [, v]) => s + v, 0);
  const top = [...timings[1]!].filter(([k]) => graph.node(k).op === 'relu').sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, v]) => `${k}:${(v * 1000).toFixed(0)}`);
  console.log(top.join(' '));
  console.log('total', t.toFixed(2), 'conv', sum('conv').toFixed(2), 'relu', sum('relu').toFixed(2));
}
for (const p of parties) p.close();
