// pnpm bench:linear [-- --quick]
// Online traffic of every ResNet50 convolution (224x224, the classifier as a 1x1 convolution) under two
// protocols, measured from the three parties' ledgers in one run: linear layers with server-known
// weights (the mask is sent once per model, in setup) and generic Beaver products with the weights
// secret-shared, as in the research code.
import { RingTensor } from '@si/ring';
import {
  beaver, convOp, linearKnown, localParties, measuredCost, setupKnownWeights, shareInput, totalBytes,
  beaverCost, linearKnownCost, knownWeightsSetupCost, type Party,
} from '@si/sharing';
import { emit, flags, randomI64, round } from './_harness.ts';
import { resnet50Convs } from './_resnet50.ts';

const { quick, seed } = flags();
const layers = resnet50Convs(1, 224);
const parties = await localParties();
const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
const sum = { x: 0, w: 0, y: 0, known: 0, beaver: 0, setup: 0, knownS: 0, beaverS: 0, declaredKnown: 0, declaredBeaver: 0 };
const all = <T>(fn: (p: Party) => Promise<T>): Promise<T[]> => Promise.all(parties.map(fn));

for (const L of layers) {
  const op = convOp({ stride: L.stride, padding: L.padding });
  const yShape = op.outShape(L.x, L.w);
  const w = new RingTensor(randomI64(`${seed}/${L.name}/w`, size(L.w)), L.w);
  const x = new RingTensor(randomI64(`${seed}/${L.name}/x`, size(L.x)), L.x);
  const known = await all((p) => setupKnownWeights(p, `${L.name}.setup`, op, L.w, p.id === 1 ? w : undefined));
  const xs = parties.map((p) => shareInput(p, 0, L.x, p.id === 0 ? x : undefined));
  let t0 = performance.now();
  await all((p) => p.scope(`${L.name}.known`, (q) => linearKnown(q, xs[p.id]!, known[p.id]!)));
  const knownS = (performance.now() - t0) / 1000;
  const ws = parties.map((p) => shareInput(p, 1, L.w, p.id === 1 ? w : undefined));
  t0 = performance.now();
  await all((p) => p.scope(`${L.name}.beaver`, (q) => beaver(q, xs[p.id]!, ws[p.id]!, op)));
  const beaverS = (performance.now() - t0) / 1000;
  const k = totalBytes(measuredCost(parties, `${L.name}.known`));
  const b = totalBytes(measuredCost(parties, `${L.name}.beaver`));
  const s = totalBytes(measuredCost(parties, `${L.name}.setup`, 'setup'));
  sum.x += size(L.x); sum.w += size(L.w); sum.y += size(yShape);
  sum.known += k; sum.beaver += b; sum.setup += s; sum.knownS += knownS; sum.beaverS += beaverS;
  sum.declaredKnown += totalBytes(linearKnownCost(size(L.x), size(yShape)));
  sum.declaredBeaver += totalBytes(beaverCost(size(L.x), size(L.w), size(yShape)));
  if (totalBytes(knownWeightsSetupCost(size(L.w))) !== s) throw new Error(`${L.name}: setup bytes differ from the declared cost`);
  if (!quick) emit({ bench: 'linear', layer: L.name, x: L.x, w: L.w, online_bytes: k, beaver_bytes: b, setup_bytes: s, online_s: round(knownS), beaver_s: round(beaverS) });
}
for (const p of parties) p.close();
if (sum.known !== sum.declaredKnown || sum.beaver !== sum.declaredBeaver) throw new Error('measured bytes differ from the declared costs');

emit({
  bench: 'linear',
  quick,
  layers: layers.length,
  x_elems: sum.x,
  w_elems: sum.w,
  y_elems: sum.y,
  online_bytes: sum.known,
  beaver_bytes: sum.beaver,
  ratio: round(sum.beaver / sum.known, 2),
  setup_bytes: sum.setup,
  online_s: round(sum.knownS, 2),
  beaver_s: round(sum.beaverS, 2),
});
