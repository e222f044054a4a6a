import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  channelAffineBackwardF32, channelAffineF32, conv2dBackwardF32, conv2dF32, convGeometry, getThreads, maskMulF32, reluMaskF32, setThreads, sgemm, type Conv2dOptions,
} from '../src/index.ts';
import { randInt, rng } from './_helpers.ts';

const r = rng('f32');
const rand = (n: number) => Float32Array.from({ length: n }, () => r() * 2 - 1);

function close(a: Float32Array, b: ArrayLike<number>, tol: number, what: string): void {
  assert.is(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (d > tol * (1 + Math.abs(b[i]!))) assert.unreachable(`${what}: index ${i}: ${a[i]} vs ${b[i]}`);
  }
}

test('sgemm with every transpose combination, accumulation and odd sizes equals the naive product', () => {
  // The last cases are deep (K beyond one depth block of 384, and not a multiple of it).
  for (let t = 0; t < 44; t++) {
    const M = randInt(r, 1, 13), N = randInt(r, 1, 19), K = t < 40 ? randInt(r, 0, 30) : [385, 768, 1001, 2500][t - 40]!;
    const A = rand(M * K), B = rand(K * N);
    const want = new Float64Array(M * N);
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) for (let k = 0; k < K; k++) want[i * N + j]! += A[i * K + k]! * B[k * N + j]!;
    const tol = 1e-5 * Math.max(1, Math.sqrt(K / 30));
    close(sgemm(A, B, M, N, K), want, tol, `${M}x${K}x${N}`);
    const At = new Float32Array(M * K), Bt = new Float32Array(K * N);
    for (let i = 0; i < M; i++) for (let k = 0; k < K; k++) At[k * M + i] = A[i * K + k]!;
    for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) Bt[j * K + k] = B[k * N + j]!;
    close(sgemm(At, Bt, M, N, K, { transA: true, transB: true }), want, tol, 'transposed');
    const C = rand(M * N), acc = C.slice();
    sgemm(A, Bt, M, N, K, { transB: true, into: acc });
    close(acc, Array.from(want, (v, i) => v + C[i]!), tol, 'accumulate');
  }
});

function convRef(x: Float32Array, xs: number[], w: Float32Array, ws: number[], o: Conv2dOptions): Float64Array {
  const g = convGeometry(xs, ws, o);
  const y = new Float64Array(g.N * g.O * g.OH * g.OW);
  for (let n = 0; n < g.N; n++) for (let oc = 0; oc < g.O; oc++) for (let oh = 0; oh < g.OH; oh++) for (let ow = 0; ow < g.OW; ow++) {
    let acc = 0;
    const grp = Math.floor(oc / g.Og);
    for (let c = 0; c < g.Cg; c++) for (let ki = 0; ki < g.KH; ki++) for (let kj = 0; kj < g.KW; kj++) {
      const ih = oh * g.SH - g.padTop + ki * g.DH, iw = ow * g.SW - g.padLeft + kj * g.DW;
      if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
      acc += x[((n * g.C + grp * g.Cg + c) * g.H + ih) * g.W + iw]! * w[((oc * g.Cg + c) * g.KH + ki) * g.KW + kj]!;
    }
    y[((n * g.O + oc) * g.OH + oh) * g.OW + ow] = acc;
  }
  return y;
}

const CASES: [number[], number[], Conv2dOptions][] = [
  [[2, 3, 9, 8], [5, 3, 3, 3], { padding: 1 }],
  [[1, 4, 11, 11], [6, 2, 3, 3], { groups: 2, stride: 2, padding: [1, 0] }],
  [[2, 6, 7, 6], [4, 3, 3, 3], { groups: 2, padding: 1 }], // batched and grouped: channels regrouped between the layouts
  [[2, 4, 7, 7], [4, 1, 3, 3], { groups: 4, padding: 2, dilation: 2 }],
  [[1, 3, 10, 10], [8, 3, 7, 7], { stride: 2, padding: 3 }],
  [[3, 8, 5, 5], [16, 8, 1, 1], {}],
  [[3, 1, 9, 7], [6, 1, 3, 3], { padding: 1 }], // one input channel (a stem): the GEMM path, not the depthwise one
  // Padding wider than the map and strides that skip the edges: rows with no input, or only a middle part.
  [[2, 2, 3, 4], [3, 2, 3, 3], { padding: 4, stride: 3, dilation: 2 }],
  [[1, 3, 6, 13], [2, 3, 1, 5], { padding: [0, 5], stride: [1, 2] }],
];

test('conv2dF32 (grouped, depthwise, strided, dilated, batched) equals the direct definition', () => {
  for (const [xs, ws, o] of CASES) {
    const x = rand(xs.reduce((a, b) => a * b)), w = rand(ws.reduce((a, b) => a * b));
    close(conv2dF32(x, xs, w, ws, o).y, convRef(x, xs, w, ws, o), 1e-4, JSON.stringify([xs, ws, o]));
  }
});

test('conv2dBackwardF32 gives the exact gradient of <conv(x, w), dy> (finite differences)', () => {
  for (const [xs, ws, o] of CASES) {
    const x = rand(xs.reduce((a, b) => a * b)), w = rand(ws.reduce((a, b) => a * b));
    const { y } = conv2dF32(x, xs, w, ws, o);
    const dy = rand(y.length);
    const { dx, dw } = conv2dBackwardF32(dy, x, xs, w, ws, o);
    const loss = (xx: Float32Array, ww: Float32Array) => convRef(xx, xs, ww, ws, o).reduce((s, v, i) => s + v * dy[i]!, 0);
    const h = 1e-2;
    for (let t = 0; t < 6; t++) {
      const i = randInt(r, 0, x.length - 1), j = randInt(r, 0, w.length - 1);
      const xp = x.slice(), xm = x.slice();
      xp[i]! += h;
      xm[i]! -= h;
      const gx = (loss(xp, w) - loss(xm, w)) / (2 * h);
      assert.ok(Math.abs(dx![i]! - gx) < 1e-3 * (1 + Math.abs(gx)), `dx[${i}] ${dx![i]} vs ${gx} ${JSON.stringify(o)}`);
      const wp = w.slice(), wm = w.slice();
      wp[j]! += h;
      wm[j]! -= h;
      const gw = (loss(x, wp) - loss(x, wm)) / (2 * h);
      assert.ok(Math.abs(dw[j]! - gw) < 1e-3 * (1 + Math.abs(gw)), `dw[${j}] ${dw[j]} vs ${gw} ${JSON.stringify(o)}`);
    }
  }
});

test('threaded float kernels equal single-threaded ones', () => {
  const xs = [4, 32, 16, 16], ws = [32, 32, 3, 3];
  const x = rand(xs.reduce((a, b) => a * b)), w = rand(ws.reduce((a, b) => a * b));
  const before = getThreads();
  try {
    setThreads(1);
    const a = conv2dF32(x, xs, w, ws, { padding: 1 }).y, ga = conv2dBackwardF32(a, x, xs, w, ws, { padding: 1 });
    setThreads(2);
    const b = conv2dF32(x, xs, w, ws, { padding: 1 }).y, gb = conv2dBackwardF32(a, x, xs, w, ws, { padding: 1 });
    assert.equal([...a], [...b]);
    assert.equal([...ga.dw], [...gb.dw]);
    assert.equal([...ga.dx!], [...gb.dx!]);
  } finally {
    setThreads(before);
  }
});

test('threaded regrouping (grouped, batched, large enough to split) equals one thread', () => {
  const xs = [16, 32, 32, 32], ws = [32, 16, 3, 3], o: Conv2dOptions = { groups: 2, padding: 1 };
  const x = rand(xs.reduce((a, b) => a * b)), w = rand(ws.reduce((a, b) => a * b));
  const a = withThreads(1, () => conv2dF32(x, xs, w, ws, o).y), b = withThreads(2, () => conv2dF32(x, xs, w, ws, o).y);
  assert.equal([...a], [...b]);
  const ga = withThreads(1, () => conv2dBackwardF32(a, x, xs, w, ws, o)), gb = withThreads(2, () => conv2dBackwardF32(a, x, xs, w, ws, o));
  assert.equal([...ga.dw], [...gb.dw]);
  assert.equal([...ga.dx!], [...gb.dx!]);
  // and equals the direct definition at a few outputs
  const ref = convRef(x, xs, w, ws, o);
  for (const i of [0, 12345, a.length - 1]) assert.ok(Math.abs(a[i]! - ref[i]!) < 1e-3 * (1 + Math.abs(ref[i]!)), `y[${i}]`);
});

// [N, C, P] shapes: tails of every length mod 4 and 16, one channel, and one large enough to run on both threads.
const CHANNEL_SHAPES: [number, number, number][] = [[1, 1, 1], [3, 5, 7], [2, 3, 13], [1, 4, 16], [2, 2, 30], [8, 16, 784]];

function withThreads<T>(t: number, fn: () => T): T {
  const before = getThreads();
  setThreads(t);
  try {
    return fn();
  } finally {
    setThreads(before);
  }
}

test('channelAffineF32: channel sums and y = x a + b, xhat = (x - mu) s per channel, as plain loops; threads agree', () => {
  for (const [N, C, P] of CHANNEL_SHAPES) {
    const x = rand(N * C * P).map((v) => 3 * v + 1);
    const k = rand(4 * C);
    const run = () => {
      const y = new Float32Array(x.length), xhat = new Float32Array(x.length);
      let got: Float64Array | null = null;
      channelAffineF32(x, N, C, P, (s) => ((got = s), k), y, { xhat, sums: true });
      return { y, xhat, sums: got! as Float64Array };
    };
    const one = withThreads(1, run), two = withThreads(2, run);
    const what = `[${N},${C},${P}]`;
    for (let c = 0; c < C; c++) {
      let s = 0, s2 = 0;
      for (let n = 0; n < N; n++) for (let p = 0; p < P; p++) {
        const i = (n * C + c) * P + p, v = x[i]!;
        s += v;
        s2 += v * v;
        close(one.y.subarray(i, i + 1), [v * k[4 * c]! + k[4 * c + 1]!], 1e-6, `${what} y`);
        close(one.xhat.subarray(i, i + 1), [(v - k[4 * c + 2]!) * k[4 * c + 3]!], 1e-6, `${what} xhat`);
      }
      close(Float32Array.of(one.sums[2 * c]!, one.sums[2 * c + 1]!), [s, s2], 1e-6, `${what} sums`);
    }
    assert.equal([...one.y], [...two.y], `${what}: threads`);
    assert.equal([...one.xhat], [...two.xhat], `${what}: threads`);
    // Without sums the callback gets null; without xhat only y is written.
    const y = new Float32Array(x.length);
    channelAffineF32(x, N, C, P, (s) => (assert.is(s, null), k), y);
    assert.equal([...y], [...one.y]);
  }
  assert.throws(() => channelAffineF32(new Float32Array(5), 1, 2, 3, () => new Float32Array(8), new Float32Array(6)), /"x" expected 6 values, got 5/);
  assert.throws(() => channelAffineF32(new Float32Array(6), 1, 2, 3, () => new Float32Array(7), new Float32Array(6)), /4 coefficients per channel \(8\), got 7/);
});

test('channelAffineBackwardF32: sums of dy and dy * xhat, dx = dy a + xhat b + e per channel, as plain loops', () => {
  for (const [N, C, P] of CHANNEL_SHAPES) {
    const dy = rand(N * C * P), xhat = rand(N * C * P), k = rand(3 * C);
    const dx = new Float32Array(dy.length);
    const sums = withThreads(2, () => channelAffineBackwardF32(dy, xhat, N, C, P, () => k, dx));
    for (let c = 0; c < C; c++) {
      let s = 0, s2 = 0;
      for (let n = 0; n < N; n++) for (let p = 0; p < P; p++) {
        const i = (n * C + c) * P + p;
        s += dy[i]!;
        s2 += dy[i]! * xhat[i]!;
        close(dx.subarray(i, i + 1), [dy[i]! * k[3 * c]! + xhat[i]! * k[3 * c + 1]! + k[3 * c + 2]!], 1e-6, `[${N},${C},${P}] dx`);
      }
      close(Float32Array.of(sums[2 * c]!, sums[2 * c + 1]!), [s, s2], 1e-6, `[${N},${C},${P}] sums`);
    }
  }
});

test('reluMaskF32 and maskMulF32: every length mod 16, the cap, 0, -0, NaN and infinities', () => {
  const special = [0, -0, NaN, Infinity, -Infinity, 6, 5.999, 6.001, 1e-30, -1e-30];
  for (const n of [1, 5, 15, 16, 17, 33, 100, 70_001]) {
    const x = rand(n).map((v, i) => (i < special.length && n > 20 ? special[i]! : 10 * v));
    for (const cap of [Infinity, 6]) {
      const y = new Float32Array(n), mask = new Uint8Array(n);
      reluMaskF32(x, cap, y, mask);
      for (let i = 0; i < n; i++) {
        const v = x[i]!, pass = v > 0 && v < cap;
        assert.is(mask[i], pass ? 1 : 0, `mask of ${v} at cap ${cap}`);
        assert.is(y[i], pass ? v : v >= cap ? cap : 0, `relu of ${v} at cap ${cap}`);
      }
      const dy = rand(n), dx = new Float32Array(n).fill(7);
      maskMulF32(dy, mask, dx);
      for (let i = 0; i < n; i++) assert.is(dx[i], mask[i] ? dy[i] : 0, `dx at ${i}`);
    }
  }
  assert.throws(() => reluMaskF32(new Float32Array(4), Infinity, new Float32Array(4), new Uint8Array(3)), /"mask" expected 4 values, got 3/);
});

test.run();

test('the relaxed-SIMD build (fused multiply-adds) is what Node loads here, and the plain build (SI_RELAXED_SIMD=0) gives the same products within float rounding', async () => {
  const { execFileSync } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const { relaxedSimd } = await import('../src/index.ts');
  assert.ok(relaxedSimd, 'Node 20+ accepts relaxed SIMD (behind its flag, which the loader sets)');
  // The same seeded product in a child process with each build; both against float64.
  const src = fileURLToPath(new URL('../src/index.ts', import.meta.url));
  const script = `import { sgemm, relaxedSimd } from ${JSON.stringify(src)};
    let s = 7; const r = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
    const a = Float32Array.from({ length: 37 * 301 }, r), b = Float32Array.from({ length: 301 * 29 }, r);
    console.log(JSON.stringify({ relaxedSimd, c: Array.from(sgemm(a, b, 37, 29, 301)) }));`;
  const run = (env: Record<string, string>) => JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '--conditions=@si/source', '--input-type=module', '-e', script], { env: { ...process.env, ...env }, encoding: 'utf8' })) as { relaxedSimd: boolean; c: number[] };
  const fused = run({}), plain = run({ SI_RELAXED_SIMD: '0' });
  assert.ok(fused.relaxedSimd && !plain.relaxedSimd, `builds: ${fused.relaxedSimd}, ${plain.relaxedSimd}`);
  let differ = 0;
  fused.c.forEach((v, i) => {
    assert.ok(Math.abs(v - plain.c[i]!) <= 1e-4 * (1 + Math.abs(v)), `element ${i}: ${v} vs ${plain.c[i]}`);
    if (v !== plain.c[i]) differ++;
  });
  assert.ok(differ > 0, 'the fused build rounds differently somewhere (it is really the other build)');
});
