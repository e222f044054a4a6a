// Test helpers: seeded test data (seedrandom is for test data only) and BigInt references.
import seedrandom from 'seedrandom';
import { RingTensor, type ConvGeometry } from '../src/index.ts';

export type Rng = seedrandom.PRNG;
export const rng = (seed: string): Rng => seedrandom(seed);

export const EDGES: bigint[] = [0n, 1n, -1n, 2n, -2n, 2n ** 62n, -(2n ** 62n), 2n ** 63n - 1n, -(2n ** 63n), 2n ** 32n - 1n, 2n ** 32n, -(2n ** 32n)];

/** Random ring values; about one in eight is an edge value (wrap-around cases). */
function randomI64(r: Rng, n: number, edgeRate = 0.125): BigInt64Array {
  const out = new BigInt64Array(n);
  const w = new Int32Array(out.buffer);
  for (let i = 0; i < n; i++) {
    if (r() < edgeRate) out[i] = EDGES[Math.floor(r() * EDGES.length)]!;
    else {
      w[2 * i] = r.int32();
      w[2 * i + 1] = r.int32();
    }
  }
  return out;
}

export function randomTensor(r: Rng, shape: number[], edgeRate?: number): RingTensor {
  return new RingTensor(randomI64(r, shape.reduce((a, b) => a * b, 1), edgeRate), shape);
}

export const randInt = (r: Rng, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

const wrap = (v: bigint): bigint => BigInt.asIntN(64, v);

export function matmulRef(a: RingTensor, b: RingTensor): BigInt64Array {
  const [m, k] = a.shape as [number, number];
  const n = b.shape[1]!;
  const out = new BigInt64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let acc = 0n;
      for (let t = 0; t < k; t++) acc += a.data[i * k + t]! * b.data[t * n + j]!;
      out[i * n + j] = wrap(acc);
    }
  return out;
}

/** Direct-definition convolution with BigInt accumulation. */
export function conv2dRef(x: RingTensor, w: RingTensor, g: ConvGeometry): BigInt64Array {
  const { N, C, H, W, O, Cg, Og, KH, KW, SH, SW, padTop, padLeft, DH, DW, OH, OW } = g;
  const out = new BigInt64Array(N * O * OH * OW);
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++) {
      const grp = Math.floor(o / Og);
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          let acc = 0n;
          for (let c = 0; c < Cg; c++)
            for (let ki = 0; ki < KH; ki++)
              for (let kj = 0; kj < KW; kj++) {
                const ih = oh * SH - padTop + ki * DH, iw = ow * SW - padLeft + kj * DW;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                const xv = x.data[((n * C + grp * Cg + c) * H + ih) * W + iw]!;
                const wv = w.data[((o * Cg + c) * KH + ki) * KW + kj]!;
                acc += xv * wv;
              }
          out[((n * O + o) * OH + oh) * OW + ow] = wrap(acc);
        }
    }
  return out;
}

export function patchSumRef(x: RingTensor, ph: number, pw: number): BigInt64Array {
  const H = x.shape.at(-2)!, W = x.shape.at(-1)!;
  const planes = x.size / (H * W);
  const PH = Math.ceil(H / ph), PW = Math.ceil(W / pw);
  const out = new BigInt64Array(planes * PH * PW);
  for (let p = 0; p < planes; p++)
    for (let h = 0; h < H; h++)
      for (let w = 0; w < W; w++) {
        const o = (p * PH + Math.floor(h / ph)) * PW + Math.floor(w / pw);
        out[o] = wrap(out[o]! + x.data[(p * H + h) * W + w]!);
      }
  return out;
}

export function sameI64(got: BigInt64Array, want: BigInt64Array): string | true {
  if (got.length !== want.length) return `length ${got.length} != ${want.length}`;
  for (let i = 0; i < got.length; i++) if (got[i] !== want[i]) return `index ${i}: got ${got[i]}, want ${want[i]}`;
  return true;
}
