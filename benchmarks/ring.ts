// pnpm bench:ring [-- --quick]
// Mod-2^64 conv (ResNet50 layer shapes) and matmul throughput in G multiply-adds/s: the WASM SIMD path
// on both cores and on one core, and the best plain-TypeScript BigInt64Array path, in one run. Beside
// them, one core with fixed-point weights (signed 20-bit values, as a server's weights at f = 12): the
// narrow kernel the server's online products run on (the masked operands of the client's and the
// helper's products are uniform, so theirs run on the general kernel, the rows above).
import { conv2d, convGeometry, getThreads, matmul, narrowProductCount, RingTensor, setThreads, type Conv2dOptions } from '@si/ring';
import { bestOf, emit, flags, randomI64, round } from './_harness.ts';
import { conv2dBigInt, matmulBigInt } from './_bigint-baseline.ts';

interface Layer { name: string; x: number[]; w: number[]; opts: Conv2dOptions }

const LAYERS: Layer[] = [
  { name: 'stem_7x7_s2', x: [1, 3, 224, 224], w: [64, 3, 7, 7], opts: { stride: 2, padding: 3 } },
  { name: 'layer1_1x1_reduce', x: [1, 256, 56, 56], w: [64, 256, 1, 1], opts: {} },
  { name: 'layer1_3x3', x: [1, 64, 56, 56], w: [64, 64, 3, 3], opts: { padding: 1 } },
  { name: 'layer2_3x3_s2', x: [1, 128, 56, 56], w: [128, 128, 3, 3], opts: { stride: 2, padding: 1 } },
  { name: 'layer2_1x1_expand', x: [1, 128, 28, 28], w: [512, 128, 1, 1], opts: {} },
  { name: 'layer3_3x3', x: [1, 256, 14, 14], w: [256, 256, 3, 3], opts: { padding: 1 } },
  { name: 'layer4_3x3', x: [1, 512, 7, 7], w: [512, 512, 3, 3], opts: { padding: 1 } },
  { name: 'layer4_1x1_expand', x: [1, 512, 7, 7], w: [2048, 512, 1, 1], opts: {} },
];
const QUICK = new Set(['stem_7x7_s2', 'layer1_3x3', 'layer2_3x3_s2', 'layer3_3x3', 'layer4_3x3']);

const { quick, seed } = flags();
const rounds = quick ? 5 : 9;
const cores = getThreads();
const sum = { macs: 0, fast: 0, one: 0, big: 0, narrow: 0 };
/** The same values cut to signed 20 bits: fixed-point weights. */
const fixedPoint = (t: RingTensor) => new RingTensor(t.data.map((v) => BigInt.asIntN(20, v)), t.shape);
const t0 = performance.now();

for (const L of LAYERS.filter((l) => !quick || QUICK.has(l.name))) {
  const x = new RingTensor(randomI64(`${seed}/${L.name}/x`, L.x.reduce((a, b) => a * b)), L.x);
  const w = new RingTensor(randomI64(`${seed}/${L.name}/w`, L.w.reduce((a, b) => a * b)), L.w);
  const wFixed = fixedPoint(w);
  const g = convGeometry(x.shape, w.shape, L.opts);
  const macs = g.N * g.O * g.OH * g.OW * g.Cg * g.KH * g.KW;
  let yFast: RingTensor | undefined, yOne: RingTensor | undefined, yBig: BigInt64Array | undefined;
  const narrowBefore = narrowProductCount();
  const best = bestOf(rounds, {
    fast: () => { setThreads(cores); yFast = conv2d(x, w, L.opts); },
    one: () => { setThreads(1); yOne = conv2d(x, w, L.opts); },
    narrow: () => { setThreads(1); conv2d(x, wFixed, L.opts); },
    big: () => { yBig = conv2dBigInt(x.data, w.data, g); },
  }, quick ? 3 : 4);
  if (narrowProductCount() === narrowBefore) throw new Error(`bench ring: ${L.name} with fixed-point weights did not run on the narrow kernel`);
  setThreads(cores);
  const equal = yFast!.equals(yOne!) && yFast!.equals(new RingTensor(yBig!, yFast!.shape));
  if (!equal) throw new Error(`bench ring: ${L.name} results differ between paths`);
  sum.macs += macs; sum.fast += best.fast!; sum.one += best.one!; sum.big += best.big!; sum.narrow += best.narrow!;
  emit({
    bench: 'ring', case: 'conv', layer: L.name, x: L.x, w: L.w, macs,
    gmacs: round(macs / best.fast! / 1e9), gmacs_1core: round(macs / best.one! / 1e9),
    fixed_point_gmacs_1core: round(macs / best.narrow! / 1e9), bigint_gmacs: round(macs / best.big! / 1e9), threads: cores, equal,
  });
}

// The matmul of the issue: 256 x 2304 x 1024.
const [M, K, N] = [256, 2304, 1024];
const a = new RingTensor(randomI64(`${seed}/mm/a`, M * K), [M, K]);
const b = new RingTensor(randomI64(`${seed}/mm/b`, K * N), [K, N]);
const aFixed = fixedPoint(a);
const cBig = new BigInt64Array(M * N), cBigFixed = new BigInt64Array(M * N);
let mFast: RingTensor | undefined, mOne: RingTensor | undefined, mNarrow: RingTensor | undefined;
const mm = bestOf(quick ? 2 : 5, {
  fast: () => { setThreads(cores); mFast = matmul(a, b); },
  one: () => { setThreads(1); mOne = matmul(a, b); },
  narrow: () => { setThreads(1); mNarrow = matmul(aFixed, b); },
  big: () => matmulBigInt(a.data, b.data, cBig, M, N, K),
});
setThreads(cores);
matmulBigInt(aFixed.data, b.data, cBigFixed, M, N, K);
const mmEqual = mFast!.equals(mOne!) && mFast!.equals(new RingTensor(cBig, [M, N])) && mNarrow!.equals(new RingTensor(cBigFixed, [M, N]));
if (!mmEqual) throw new Error('bench ring: matmul results differ between paths');
const mmMacs = M * N * K;
emit({
  bench: 'ring', case: 'matmul', m: M, k: K, n: N, gmacs: round(mmMacs / mm.fast! / 1e9),
  gmacs_1core: round(mmMacs / mm.one! / 1e9), fixed_point_gmacs_1core: round(mmMacs / mm.narrow! / 1e9), bigint_gmacs: round(mmMacs / mm.big! / 1e9), threads: cores, equal: mmEqual,
});

const conv = sum.macs / sum.fast / 1e9, conv1 = sum.macs / sum.one / 1e9, big = sum.macs / sum.big / 1e9;
emit({
  bench: 'ring',
  quick,
  threads: cores,
  conv_gmacs: round(conv),
  conv_gmacs_1core: round(conv1),
  conv_gmacs_1core_fixed_point: round(sum.macs / sum.narrow / 1e9),
  fixed_point_speedup: round(sum.one / sum.narrow, 2),
  matmul_gmacs: round(mmMacs / mm.fast! / 1e9),
  matmul_gmacs_1core: round(mmMacs / mm.one! / 1e9),
  bigint_gmacs: round(big),
  bigint_matmul_gmacs: round(mmMacs / mm.big! / 1e9),
  ratio: round(conv / big, 2),
  speedup_threads: round(conv / conv1, 2),
  seconds: round((performance.now() - t0) / 1000, 1),
});
