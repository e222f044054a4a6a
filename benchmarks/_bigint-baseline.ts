// The baseline: the fastest plain-TypeScript BigInt64Array code we could write for mod-2^64 matmul and
// conv. Results are stored straight into BigInt64Arrays, which lets V8 lower the BigInt arithmetic to
// machine int64 (no BigInt allocation); an explicit BigInt.asIntN per product defeats that and runs
// ~30x slower (measured). The k loop is unrolled by 8 and blocked so rows of B stay in cache.
import type { ConvGeometry } from '@si/ring';

/** c = a [M,K] x b [K,N] (mod 2^64), row-major. */
export function matmulBigInt(a: BigInt64Array, b: BigInt64Array, c: BigInt64Array, M: number, N: number, K: number): void {
  c.fill(0n);
  const BK = 128;
  for (let k0 = 0; k0 < K; k0 += BK) {
    const k1 = Math.min(K, k0 + BK);
    for (let i = 0; i < M; i++) {
      const ci = i * N, ai = i * K;
      let k = k0;
      for (; k + 8 <= k1; k += 8) {
        const a0 = a[ai + k]!, a1 = a[ai + k + 1]!, a2 = a[ai + k + 2]!, a3 = a[ai + k + 3]!;
        const a4 = a[ai + k + 4]!, a5 = a[ai + k + 5]!, a6 = a[ai + k + 6]!, a7 = a[ai + k + 7]!;
        const b0 = k * N, b1 = b0 + N, b2 = b1 + N, b3 = b2 + N, b4 = b3 + N, b5 = b4 + N, b6 = b5 + N, b7 = b6 + N;
        for (let j = 0; j < N; j++) {
          c[ci + j] = c[ci + j]! + a0 * b[b0 + j]! + a1 * b[b1 + j]! + a2 * b[b2 + j]! + a3 * b[b3 + j]!
            + a4 * b[b4 + j]! + a5 * b[b5 + j]! + a6 * b[b6 + j]! + a7 * b[b7 + j]!;
        }
      }
      for (; k < k1; k++) {
        const aik = a[ai + k]!, bk = k * N;
        for (let j = 0; j < N; j++) c[ci + j] = c[ci + j]! + aik * b[bk + j]!;
      }
    }
  }
}

/** im2col in plain TypeScript: col [Cg*KH*KW, N*OH*OW] for group gi. */
function im2col(x: BigInt64Array, g: ConvGeometry, gi: number, col: BigInt64Array): void {
  const { N, C, H, W, Cg, KH, KW, SH, SW, padTop, padLeft, DH, DW, OH, OW } = g;
  const P = OH * OW, cols = N * P;
  col.fill(0n);
  for (let c = 0; c < Cg; c++)
    for (let ki = 0; ki < KH; ki++)
      for (let kj = 0; kj < KW; kj++) {
        const row = ((c * KH + ki) * KW + kj) * cols;
        for (let n = 0; n < N; n++) {
          const xb = (n * C + gi * Cg + c) * H * W;
          for (let oh = 0; oh < OH; oh++) {
            const ih = oh * SH - padTop + ki * DH;
            if (ih < 0 || ih >= H) continue;
            const o = row + n * P + oh * OW;
            for (let ow = 0; ow < OW; ow++) {
              const iw = ow * SW - padLeft + kj * DW;
              if (iw >= 0 && iw < W) col[o + ow] = x[xb + ih * W + iw]!;
            }
          }
        }
      }
}

/** conv2d mod 2^64 as im2col + the blocked BigInt64Array matmul; output [N, O, OH, OW]. */
export function conv2dBigInt(x: BigInt64Array, w: BigInt64Array, g: ConvGeometry): BigInt64Array {
  const P = g.OH * g.OW, K = g.Cg * g.KH * g.KW, cols = g.N * P;
  const col = new BigInt64Array(K * cols), c = new BigInt64Array(g.Og * cols);
  const out = new BigInt64Array(g.N * g.O * P);
  for (let gi = 0; gi < g.groups; gi++) {
    im2col(x, g, gi, col);
    matmulBigInt(w.subarray(gi * g.Og * K, (gi + 1) * g.Og * K), col, c, g.Og, cols, K);
    for (let o = 0; o < g.Og; o++)
      for (let n = 0; n < g.N; n++) out.set(c.subarray(o * cols + n * P, o * cols + n * P + P), (n * g.O + gi * g.Og + o) * P);
  }
  return out;
}
