import { forward, release } from '@si/models';
import { graphOf, loadSpec, loadWeights } from './src/models.ts';
import { loadFashion } from './src/fashion.ts';
import { accuracy, predict } from './src/train.ts';

const [specSrc, ...ws] = process.argv.slice(2);
const graph = graphOf('fmnist-resnet');
const spec = loadSpec(graph, specSrc)!;
const all = ws.map((w) => loadWeights(graph, w));
const params = new Map<string, Float32Array>();
for (const [k, v] of all[0]!) {
  const a = new Float32Array(v.length);
  for (const p of all) { const u = p.get(k)!; for (let i = 0; i < a.length; i++) a[i]! += u[i]! / all.length; }
  params.set(k, a);
}
const test = loadFashion('test');
const ev = (tag: string) => console.log(tag, (100 * accuracy(predict(graph, params, test.x, test.N, { spec: spec.layers }), test.labels)).toFixed(2));
ev('averaged, averaged BN stats');
// BN recalibration: cumulative mean over training batches (no augmentation).
const train = loadFashion('train');
const px = 28 * 28, B = 250, nb = Number(process.env.NB ?? 60);
const bn = [...params.keys()].filter((k) => k.endsWith('.running_mean')).map((k) => k.slice(0, -'.running_mean'.length));
const sumM = new Map(bn.map((n) => [n, new Float64Array(params.get(`${n}.running_mean`)!.length)]));
const sumV = new Map(bn.map((n) => [n, new Float64Array(params.get(`${n}.running_var`)!.length)]));
for (let b = 0; b < nb; b++) {
  for (const n of bn) { params.get(`${n}.running_mean`)!.fill(0); params.get(`${n}.running_var`)!.fill(1); }
  const { trace } = forward(graph, params, train.x.subarray(b * B * px, (b + 1) * B * px), B, { training: true, spec: spec.layers });
  release(trace);
  // with momentum m the stats are now m * batch + (1 - m) * init; recover batch stats
  for (const n of bn) {
    const node = graph.nodes.find((x: any) => x.name === n) as any;
    const m = node.momentum;
    const rm = params.get(`${n}.running_mean`)!, rv = params.get(`${n}.running_var`)!;
    const sm = sumM.get(n)!, sv = sumV.get(n)!;
    for (let i = 0; i < rm.length; i++) { sm[i]! += rm[i]! / m; sv[i]! += (rv[i]! - (1 - m)) / m; }
  }
}
for (const n of bn) {
  const rm = params.get(`${n}.running_mean`)!, rv = params.get(`${n}.running_var`)!;
  const sm = sumM.get(n)!, sv = sumV.get(n)!;
  for (let i = 0; i < rm.length; i++) { rm[i] = sm[i]! / nb; rv[i] = sv[i]! / nb; }
}
ev(`BN recalibrated over ${nb * B} train images`);
