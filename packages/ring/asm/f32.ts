// Float32 kernels for the float engine: a packed SIMD GEMM with optional transposes and accumulation,
// im2col / col2im, and direct depthwise convolution (forward and backward).

// @ts-ignore: decorator
@inline function ld(p: usize): f32 { return load<f32>(p); }

/**
 * Packs rows [r0, r1) and depths [k0, k1) of op(A) (op(A) is M x K) into 4-row panels; trans: A is stored
 * K x M. Rows past r1 are 0.
 */
function packAF32(ap: usize, a: usize, r0: i32, r1: i32, k0: i32, k1: i32, lda: i32, trans: i32): void {
  let q = ap;
  for (let blk = r0; blk < r1; blk += 4) {
    for (let k = k0; k < k1; k++) {
      for (let r = 0; r < 4; r++) {
        const row = blk + r;
        let v: f32 = 0;
        if (row < r1) v = trans ? ld(a + (<usize>(k * lda + row) << 2)) : ld(a + (<usize>(row * lda + k) << 2));
        store<f32>(q, v);
        q += 4;
      }
    }
  }
}

/**
 * Packs column panels [q0, q1) (8 columns each), depths [k0, k1), of op(B) (K x N); trans: B is stored
 * N x K. Columns past N are 0.
 */
function packBF32(bp: usize, b: usize, k0: i32, k1: i32, N: i32, q0: i32, q1: i32, ldb: i32, trans: i32): void {
  let q = bp;
  for (let p = q0; p < q1; p++) {
    const j0 = p * 8;
    const full = j0 + 8 <= N;
    for (let k = k0; k < k1; k++) {
      if (!trans && full) {
        const s = b + (<usize>(k * ldb + j0) << 2);
        v128.store(q, v128.load(s));
        v128.store(q, v128.load(s, 16), 16);
      } else {
        for (let t = 0; t < 8; t++) {
          const j = j0 + t;
          let v: f32 = 0;
          if (j < N) v = trans ? ld(b + (<usize>(j * ldb + k) << 2)) : ld(b + (<usize>(k * ldb + j) << 2));
          store<f32>(q + (<usize>t << 2), v);
        }
      }
      q += 32;
    }
  }
}

/**
 * c + a * b per lane: one fused multiply-add where the module is built with relaxed SIMD (kernels-relaxed.wasm,
 * loaded when the engine supports it; rounding once instead of twice), else a multiply and an add.
 */
// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return v128.relaxed_madd<f32>(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

// @ts-ignore: decorator
@inline function micro(pa: usize, pb: usize, pc: usize, ldcBytes: usize, K: i32, acc: i32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let k = 0; k < K; k++) {
    const b0 = v128.load(pb), b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
    a = v128.load32_splat(pa, 8);
    c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
    a = v128.load32_splat(pa, 12);
    c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
    pa += 16; pb += 32;
  }
  let q = pc;
  if (acc) {
    v128.store(q, f32x4.add(v128.load(q), c00)); v128.store(q, f32x4.add(v128.load(q, 16), c01), 16); q += ldcBytes;
    v128.store(q, f32x4.add(v128.load(q), c10)); v128.store(q, f32x4.add(v128.load(q, 16), c11), 16); q += ldcBytes;
    v128.store(q, f32x4.add(v128.load(q), c20)); v128.store(q, f32x4.add(v128.load(q, 16), c21), 16); q += ldcBytes;
    v128.store(q, f32x4.add(v128.load(q), c30)); v128.store(q, f32x4.add(v128.load(q, 16), c31), 16);
  } else {
    v128.store(q, c00); v128.store(q, c01, 16); q += ldcBytes;
    v128.store(q, c10); v128.store(q, c11, 16); q += ldcBytes;
    v128.store(q, c20); v128.store(q, c21, 16); q += ldcBytes;
    v128.store(q, c30); v128.store(q, c31, 16);
  }
}

// Depth blocking: op(A) and op(B) are packed and multiplied KC deep at a time, so a job's packed A rows
// and a chunk of B panels stay in cache however long K is (the weight gradient of a convolution has K =
// batch x pixels); C accumulates across the blocks. KC = K split into equal blocks of at most 384.
// @ts-ignore: decorator
@inline function depthBlock(K: i32): i32 { const n = (K + 383) / 384; return (K + n - 1) / max(n, 1); }

function panelsPerChunk(KC: i32): i32 {
  return max(1, (256 * 1024) / (max(KC, 1) * 32));
}

/** Scratch bytes one sgemm job needs. */
export function sgemmScratchBytes(K: i32, rowBlocks: i32): i32 {
  const KC = depthBlock(K);
  return rowBlocks * KC * 16 + panelsPerChunk(KC) * KC * 32 + 128;
}

/**
 * C (M x N, row stride ldc) = op(A) op(B) (+ C when acc), for row blocks [b0, b1) (4 rows) and column
 * panels [q0, q1) (8 columns) — one thread's share.
 */
export function sgemmJob(a: usize, b: usize, c: usize, M: i32, N: i32, K: i32, lda: i32, ldb: i32, ldc: i32,
                         transA: i32, transB: i32, acc: i32, b0: i32, b1: i32, q0: i32, q1: i32, scratch: usize): void {
  const KC = depthBlock(K), cp = panelsPerChunk(KC);
  const ap = scratch;
  const bp = ap + <usize>(b1 - b0) * (<usize>KC << 4);
  const temp = bp + <usize>cp * (<usize>KC << 5);
  const ldcBytes = <usize>ldc << 2;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const k1 = min(K, k0 + KC), kc = k1 - k0, add = acc || k0 > 0 ? 1 : 0;
    packAF32(ap, a, b0 * 4, min(b1 * 4, M), k0, k1, lda, transA);
    for (let s = q0; s < q1; s += cp) {
      const e = min(q1, s + cp);
      packBF32(bp, b, k0, k1, N, s, e, ldb, transB);
      for (let blk = b0; blk < b1; blk++) {
        const pa = ap + <usize>(blk - b0) * (<usize>kc << 4);
        const r0 = blk * 4;
        for (let p = s; p < e; p++) {
          const pb = bp + <usize>(p - s) * (<usize>kc << 5);
          const c0 = p * 8;
          if (r0 + 4 <= M && c0 + 8 <= N) {
            micro(pa, pb, c + <usize>r0 * ldcBytes + (<usize>c0 << 2), ldcBytes, kc, add);
          } else {
            micro(pa, pb, temp, 32, kc, 0);
            for (let r = 0; r < 4 && r0 + r < M; r++) {
              for (let t = 0; t < 8 && c0 + t < N; t++) {
                const dst = c + <usize>(r0 + r) * ldcBytes + (<usize>(c0 + t) << 2);
                const v = load<f32>(temp + (<usize>(r * 8 + t) << 2));
                store<f32>(dst, add ? load<f32>(dst) + v : v);
              }
            }
          }
        }
      }
    }
  }
}

// Conv parameter block (i32 words), shared with the i64 kernels' layout.
const P_N = 0, P_C = 1, P_H = 2, P_W = 3, P_COFF = 4, P_CG = 5, P_KH = 6, P_KW = 7, P_SH = 8,
  P_SW = 9, P_PH = 10, P_PW = 11, P_DH = 12, P_DW = 13, P_OH = 14, P_OW = 15, P_O = 16, P_OG = 17;

// @ts-ignore: decorator
@inline function prm(p: usize, i: i32): i32 { return load<i32>(p + (<usize>i << 2)); }


/**
 * Moves group channels between the NCHW layout [N, O, P] and the GEMM layout [Og, N, P] (group channels
 * o0 .. o0 + Og), for channels [r0, r1) of the group: toGemm = 1 copies nchw -> gemm, 0 gemm -> nchw.
 * One memory.copy per (channel, image) row of P floats.
 */
export function regroupF32(gemm: usize, nchw: usize, N: i32, O: i32, P: i32, o0: i32, Og: i32, r0: i32, r1: i32, toGemm: i32): void {
  const row = <usize>P << 2;
  for (let o = r0; o < r1; o++) {
    for (let n = 0; n < N; n++) {
      const g = gemm + <usize>(o * N + n) * row, c = nchw + <usize>(n * O + o0 + o) * row;
      if (toGemm) memory.copy(g, c, row);
      else memory.copy(c, g, row);
    }
  }
}

/**
 * col[k, n*P + p] for k = (c, ki, kj) over the group's Cg channels (from channel cOff) and p over the
 * OH x OW outputs; rows [k0, k1) only. Out-of-map taps are 0.
 */
export function im2colF32(col: usize, x: usize, prmp: usize, k0: i32, k1: i32): void {
  const N = prm(prmp, P_N), C = prm(prmp, P_C), H = prm(prmp, P_H), W = prm(prmp, P_W);
  const cOff = prm(prmp, P_COFF), KH = prm(prmp, P_KH), KW = prm(prmp, P_KW);
  const SH = prm(prmp, P_SH), SW = prm(prmp, P_SW), PH = prm(prmp, P_PH), PW = prm(prmp, P_PW);
  const DH = prm(prmp, P_DH), DW = prm(prmp, P_DW), OH = prm(prmp, P_OH), OW = prm(prmp, P_OW);
  const P = OH * OW, cols = N * P;
  for (let k = k0; k < k1; k++) {
    const c = k / (KH * KW), r = k - c * KH * KW, ki = r / KW, kj = r - ki * KW;
    const rowOut = col + (<usize>k * <usize>cols << 2);
    for (let n = 0; n < N; n++) {
      const xb = x + (<usize>((n * C + cOff + c) * H) * <usize>W << 2);
      let o = rowOut + (<usize>(n * P) << 2);
      for (let oh = 0; oh < OH; oh++) {
        const ih = oh * SH - PH + ki * DH;
        if (ih < 0 || ih >= H) {
          memory.fill(o, 0, <usize>OW << 2);
          o += <usize>OW << 2;
          continue;
        }
        const rb = xb + (<usize>(ih * W) << 2);
        const iw0 = kj * DW - PW, lo = firstIn(iw0, SW, OW), hi = endIn(iw0, SW, W, OW);
        if (lo > 0) memory.fill(o, 0, <usize>lo << 2);
        if (SW == 1) memory.copy(o + (<usize>lo << 2), rb + (<usize>(lo + iw0) << 2), <usize>(hi - lo) << 2);
        else for (let ow = lo; ow < hi; ow++) store<f32>(o + (<usize>ow << 2), ld(rb + (<usize>(ow * SW + iw0) << 2)));
        if (hi < OW) memory.fill(o + (<usize>hi << 2), 0, <usize>(OW - hi) << 2);
        o += <usize>OW << 2;
      }
    }
  }
}

// The outputs ow whose input column ow * S + iw0 falls in [0, W): [firstIn, endIn) (empty when lo >= hi).
// @ts-ignore: decorator
@inline function firstIn(iw0: i32, S: i32, OW: i32): i32 { const f = iw0 >= 0 ? 0 : (S - 1 - iw0) / S; return f > OW ? OW : f; }
// @ts-ignore: decorator
@inline function endIn(iw0: i32, S: i32, W: i32, OW: i32): i32 {
  const e = W - iw0 <= 0 ? 0 : (W - 1 - iw0) / S + 1;
  const lo = firstIn(iw0, S, OW);
  return e < lo ? lo : e > OW ? OW : e;
}

/** The adjoint of im2colF32: dx[n, cOff + c, ih, iw] += col[k, n*P + p] for all taps; channels [c0, c1) of the group. */
export function col2imF32(dx: usize, col: usize, prmp: usize, c0: i32, c1: i32): void {
  const N = prm(prmp, P_N), C = prm(prmp, P_C), H = prm(prmp, P_H), W = prm(prmp, P_W);
  const cOff = prm(prmp, P_COFF), KH = prm(prmp, P_KH), KW = prm(prmp, P_KW);
  const SH = prm(prmp, P_SH), SW = prm(prmp, P_SW), PH = prm(prmp, P_PH), PW = prm(prmp, P_PW);
  const DH = prm(prmp, P_DH), DW = prm(prmp, P_DW), OH = prm(prmp, P_OH), OW = prm(prmp, P_OW);
  const P = OH * OW, cols = N * P;
  for (let c = c0; c < c1; c++) {
    for (let ki = 0; ki < KH; ki++) for (let kj = 0; kj < KW; kj++) {
      const k = (c * KH + ki) * KW + kj;
      const rowIn = col + (<usize>k * <usize>cols << 2);
      for (let n = 0; n < N; n++) {
        const xb = dx + (<usize>((n * C + cOff + c) * H) * <usize>W << 2);
        let i = rowIn + (<usize>(n * P) << 2);
        for (let oh = 0; oh < OH; oh++) {
          const ih = oh * SH - PH + ki * DH;
          if (ih < 0 || ih >= H) { i += <usize>OW << 2; continue; }
          const rb = xb + (<usize>(ih * W) << 2);
          const iw0 = kj * DW - PW, lo = firstIn(iw0, SW, OW), hi = endIn(iw0, SW, W, OW);
          if (SW == 1) {
            // dx[iw0 + ow] += col[ow] over the interior, four lanes at a time.
            const q0 = rb + (<usize>iw0 << 2);
            let ow = lo;
            for (; ow + 4 <= hi; ow += 4) {
              const q = q0 + (<usize>ow << 2);
              v128.store(q, f32x4.add(v128.load(q), v128.load(i + (<usize>ow << 2))));
            }
            for (; ow < hi; ow++) { const q = q0 + (<usize>ow << 2); store<f32>(q, ld(q) + ld(i + (<usize>ow << 2))); }
          } else {
            for (let ow = lo; ow < hi; ow++) {
              const q = rb + (<usize>(ow * SW + iw0) << 2);
              store<f32>(q, ld(q) + ld(i + (<usize>ow << 2)));
            }
          }
          i += <usize>OW << 2;
        }
      }
    }
  }
}

/**
 * Depthwise-style convolution (one input channel per group, Og outputs per group), planes [r0, r1) of
 * the N*O outputs; optional bias b (0 = none).
 */
export function depthwiseF32(out: usize, x: usize, w: usize, prmp: usize, r0: i32, r1: i32): void {
  const C = prm(prmp, P_C), H = prm(prmp, P_H), W = prm(prmp, P_W);
  const KH = prm(prmp, P_KH), KW = prm(prmp, P_KW);
  const SH = prm(prmp, P_SH), SW = prm(prmp, P_SW), PH = prm(prmp, P_PH), PW = prm(prmp, P_PW);
  const DH = prm(prmp, P_DH), DW = prm(prmp, P_DW), OH = prm(prmp, P_OH), OW = prm(prmp, P_OW);
  const O = prm(prmp, P_O), Og = prm(prmp, P_OG);
  for (let r = r0; r < r1; r++) {
    const n = r / O, o = r - n * O;
    const xp = x + (<usize>((n * C + o / Og) * H) * <usize>W << 2);
    const wp = w + (<usize>(o * KH * KW) << 2);
    let op = out + (<usize>r * <usize>(OH * OW) << 2);
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        let acc: f32 = 0;
        for (let ki = 0; ki < KH; ki++) {
          const ih = oh * SH - PH + ki * DH;
          if (ih < 0 || ih >= H) continue;
          for (let kj = 0; kj < KW; kj++) {
            const iw = ow * SW - PW + kj * DW;
            if (iw < 0 || iw >= W) continue;
            acc += ld(wp + (<usize>(ki * KW + kj) << 2)) * ld(xp + (<usize>(ih * W + iw) << 2));
          }
        }
        store<f32>(op, acc);
        op += 4;
      }
    }
  }
}

/**
 * Backward of depthwiseF32 for input channels [g0, g1) (all their Og outputs and the whole batch, so
 * jobs on different channels touch disjoint dx and dw): dx += sum_taps w * dy, dw += sum dy * x.
 * dx and dw are accumulated into (zero them first).
 */
export function depthwiseBackwardF32(dx: usize, dw: usize, dy: usize, x: usize, w: usize, prmp: usize, g0: i32, g1: i32): void {
  const N = prm(prmp, P_N), C = prm(prmp, P_C), H = prm(prmp, P_H), W = prm(prmp, P_W);
  const KH = prm(prmp, P_KH), KW = prm(prmp, P_KW);
  const SH = prm(prmp, P_SH), SW = prm(prmp, P_SW), PH = prm(prmp, P_PH), PW = prm(prmp, P_PW);
  const DH = prm(prmp, P_DH), DW = prm(prmp, P_DW), OH = prm(prmp, P_OH), OW = prm(prmp, P_OW);
  const O = prm(prmp, P_O), Og = prm(prmp, P_OG);
  for (let g = g0; g < g1; g++) {
    for (let o = g * Og; o < (g + 1) * Og; o++) {
      const wp = w + (<usize>(o * KH * KW) << 2), dwp = dw + (<usize>(o * KH * KW) << 2);
      for (let n = 0; n < N; n++) {
        const xo = <usize>((n * C + g) * H) * <usize>W << 2;
        let gp = dy + (<usize>(n * O + o) * <usize>(OH * OW) << 2);
        for (let oh = 0; oh < OH; oh++) {
          for (let ow = 0; ow < OW; ow++) {
            const gv = ld(gp);
            gp += 4;
            for (let ki = 0; ki < KH; ki++) {
              const ih = oh * SH - PH + ki * DH;
              if (ih < 0 || ih >= H) continue;
              for (let kj = 0; kj < KW; kj++) {
                const iw = ow * SW - PW + kj * DW;
                if (iw < 0 || iw >= W) continue;
                const at = xo + (<usize>(ih * W + iw) << 2);
                const wk = wp + (<usize>(ki * KW + kj) << 2), dwk = dwp + (<usize>(ki * KW + kj) << 2);
                store<f32>(dx + at, ld(dx + at) + gv * ld(wk));
                store<f32>(dwk, ld(dwk) + gv * ld(x + at));
              }
            }
          }
        }
      }
    }
  }
}
