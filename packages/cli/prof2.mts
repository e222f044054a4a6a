import { RingTensor } from '@si/ring';
import { localParties, shareInput } from '@si/sharing';
import { patchRelu } from '@si/patch-relu';
import { graphOf, loadSpec } from './src/index.ts';
const graph = graphOf('resnet50');
const spec = loadSpec(graph, 'knapsack:0.06')!;
const parties = await localParties();
const L = graph.reluLayers().find((l) => l.name === (process.argv[2] ?? 'layer4_0_2'))!;
const sizes = spec.layers[L.name]!;
const kinds: Record<string, number> = {};
for (const s of sizes) kinds[`${s[0]}x${s[1]}`] = (kinds[`${s[0]}x${s[1]}`] ?? 0) + 1;
console.log(L.name, JSON.stringify(kinds));
const n = L.channels * L.H * L.W;
const x = RingTensor.from(Array.from({ length: n }, (_, i) => ((i * 7919) % 8000) - 4000), [1, L.channels, L.H, L.W]);
const xs = parties.map((p) => shareInput(p, 0, x.shape, p.id === 0 ? x : undefined));
for (let rep = 0; rep < 4; rep++) {
  const t0 = performance.now();
  const ts = [0, 0, 0];
  await Promise.all(parties.map(async (p) => { await patchRelu(p, xs[p.id]!, sizes, { mode: 'small-ring', dropLowBits: 4, keepBits: 16 }); ts[p.id] = performance.now() - t0; }));
  const all = new Array(L.channels).fill([1, 1]);
  const t1 = performance.now();
  await Promise.all(parties.map((p) => patchRelu(p, xs[p.id]!, all, { mode: 'small-ring', dropLowBits: 4, keepBits: 16 })));
  console.log('spec ms', (t1 - t0).toFixed(0), ts.map((t) => t.toFixed(0)).join('/'), 'all-relu ms', (performance.now() - t1).toFixed(0), 'pixels', n);
}
for (const p of parties) p.close();
