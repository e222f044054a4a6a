// Matrix products mod 2^64 with WASM SIMD.
//
// a * b mod 2^64 = lo(a)*lo(b) + 2^32 * (hi(a)*lo(b) + lo(a)*hi(b))   (mod 2^64)
// The first term is a full 32x32->64 product (i64x2.extmul), the cross terms are only needed mod 2^32,
// so four of them come from one i32x4.mul. Per four multiply-adds that is 2 extmul + 2 i32x4.mul instead
// of two emulated i64x2.mul (3 pmuludq and 5 shifts/adds each): measured 3.7 vs 2.9 G MAC/s.
//
// Layouts (all little-endian i64):
//   packed A ("row panel"): for each block of 4 rows, for each k: the 4 row values (32 bytes).
//   packed B ("column panel"): for each block of 4 columns, for each k: lo words of the 4 values,
//   then hi words (32 bytes). Produced by packB (matmul) or im2col (conv).
//   C: row-major with leading dimension ldc; a micro tile stores 4 rows x 4 columns.

/** Packs rows [0, M) of A (row stride lda elements) into row panels; rows past M are zero. */
export function packA(ap: usize, a: usize, M: i32, K: i32, lda: i32): void {
  const M4 = (M + 3) >> 2;
  let q = ap;
  for (let blk = 0; blk < M4; blk++) {
    for (let k = 0; k < K; k++) {
      for (let r = 0; r < 4; r++) {
        const row = blk * 4 + r;
        store<i64>(q, row < M ? load<i64>(a + (<usize>(row * lda + k) << 3)) : 0);
        q += 8;
      }
    }
  }
}

/** Packs column panels [p0, p1) of B ([K, N] row-major) into bp; columns past N are zero. */
function packB(bp: usize, b: usize, K: i32, N: i32, p0: i32, p1: i32): void {
  let q = bp;
  for (let p = p0; p < p1; p++) {
    const j = p * 4;
    if (j + 4 <= N) {
      for (let k = 0; k < K; k++) {
        const s = b + (<usize>(k * N + j) << 3);
        const v0 = v128.load(s), v1 = v128.load(s, 16);
        v128.store(q, i32x4.shuffle(v0, v1, 0, 2, 4, 6));
        v128.store(q, i32x4.shuffle(v0, v1, 1, 3, 5, 7), 16);
        q += 32;
      }
    } else {
      for (let k = 0; k < K; k++) {
        for (let t = 0; t < 4; t++) {
          const v: i64 = j + t < N ? load<i64>(b + (<usize>(k * N + j + t) << 3)) : 0;
          store<u32>(q + (<usize>t << 2), <u32>v);
          store<u32>(q + 16 + (<usize>t << 2), <u32>(v >>> 32));
        }
        q += 32;
      }
    }
  }
}

// @ts-ignore: decorator
@inline function micro(pa: usize, pb: usize, pc: usize, ldcBytes: usize, K: i32): void {
  let l00 = i64x2.splat(0), l01 = i64x2.splat(0), h0 = i32x4.splat(0);
  let l10 = i64x2.splat(0), l11 = i64x2.splat(0), h1 = i32x4.splat(0);
  let l20 = i64x2.splat(0), l21 = i64x2.splat(0), h2 = i32x4.splat(0);
  let l30 = i64x2.splat(0), l31 = i64x2.splat(0), h3 = i32x4.splat(0);
  for (let k = 0; k < K; k++) {
    const blo = v128.load(pb), bhi = v128.load(pb, 16);
    let alo = v128.load32_splat(pa), ahi = v128.load32_splat(pa, 4);
    l00 = i64x2.add(l00, i64x2.extmul_low_i32x4_u(alo, blo));
    l01 = i64x2.add(l01, i64x2.extmul_high_i32x4_u(alo, blo));
    h0 = i32x4.add(h0, i32x4.add(i32x4.mul(alo, bhi), i32x4.mul(ahi, blo)));
    alo = v128.load32_splat(pa, 8); ahi = v128.load32_splat(pa, 12);
    l10 = i64x2.add(l10, i64x2.extmul_low_i32x4_u(alo, blo));
    l11 = i64x2.add(l11, i64x2.extmul_high_i32x4_u(alo, blo));
    h1 = i32x4.add(h1, i32x4.add(i32x4.mul(alo, bhi), i32x4.mul(ahi, blo)));
    alo = v128.load32_splat(pa, 16); ahi = v128.load32_splat(pa, 20);
    l20 = i64x2.add(l20, i64x2.extmul_low_i32x4_u(alo, blo));
    l21 = i64x2.add(l21, i64x2.extmul_high_i32x4_u(alo, blo));
    h2 = i32x4.add(h2, i32x4.add(i32x4.mul(alo, bhi), i32x4.mul(ahi, blo)));
    alo = v128.load32_splat(pa, 24); ahi = v128.load32_splat(pa, 28);
    l30 = i64x2.add(l30, i64x2.extmul_low_i32x4_u(alo, blo));
    l31 = i64x2.add(l31, i64x2.extmul_high_i32x4_u(alo, blo));
    h3 = i32x4.add(h3, i32x4.add(i32x4.mul(alo, bhi), i32x4.mul(ahi, blo)));
    pa += 32; pb += 32;
  }
  let q = pc;
  v128.store(q, i64x2.add(l00, i64x2.shl(i64x2.extend_low_i32x4_u(h0), 32)));
  v128.store(q, i64x2.add(l01, i64x2.shl(i64x2.extend_high_i32x4_u(h0), 32)), 16); q += ldcBytes;
  v128.store(q, i64x2.add(l10, i64x2.shl(i64x2.extend_low_i32x4_u(h1), 32)));
  v128.store(q, i64x2.add(l11, i64x2.shl(i64x2.extend_high_i32x4_u(h1), 32)), 16); q += ldcBytes;
  v128.store(q, i64x2.add(l20, i64x2.shl(i64x2.extend_low_i32x4_u(h2), 32)));
  v128.store(q, i64x2.add(l21, i64x2.shl(i64x2.extend_high_i32x4_u(h2), 32)), 16); q += ldcBytes;
  v128.store(q, i64x2.add(l30, i64x2.shl(i64x2.extend_low_i32x4_u(h3), 32)));
  v128.store(q, i64x2.add(l31, i64x2.shl(i64x2.extend_high_i32x4_u(h3), 32)), 16);
}

/** C[:, panels p0..p0+np) = packed A (M4 row blocks) x np packed B panels starting at bp. */
function gemmChunk(ap: usize, M4: i32, K: i32, bp: usize, np: i32, c: usize, ldc: i32, p0: i32): void {
  const panelBytes = <usize>K << 5;
  const ldcBytes = <usize>ldc << 3;
  // A block outer: its 32*K bytes stay in L1/L2 while the chunk of B panels streams past it.
  for (let i = 0; i < M4; i++) {
    const pa = ap + <usize>i * panelBytes;
    const crow = c + <usize>(i * 4) * ldcBytes;
    for (let p = 0; p < np; p++) {
      micro(pa, bp + <usize>p * panelBytes, crow + (<usize>((p0 + p) * 4) << 3), ldcBytes, K);
    }
  }
}

/** Number of B panels packed at once: about 256 KiB of packed B, so a chunk stays in L2. */
function chunkPanels(K: i32): i32 {
  return max(1, (256 * 1024) / (K * 32));
}

/**
 * C = A x B for column panels [p0, p1): A already packed (M4 row blocks), B row-major [K, N],
 * C [4*M4, ldc] (ldc >= 4*ceil(N/4)). scratch holds chunkPanels(K) packed panels.
 */
export function matmulRange(ap: usize, M4: i32, b: usize, K: i32, N: i32, c: usize, ldc: i32,
                            p0: i32, p1: i32, scratch: usize): void {
  const cp = chunkPanels(K);
  for (let s = p0; s < p1; s += cp) {
    const e = min(p1, s + cp);
    packB(scratch, b, K, N, s, e);
    gemmChunk(ap, M4, K, scratch, e - s, c, ldc, s);
  }
}

export function scratchBytes(K: i32): i32 {
  return chunkPanels(K) * K * 32;
}

// Conv parameter block (i32 words), written by the JS side.
const P_N = 0, P_C = 1, P_H = 2, P_W = 3, P_COFF = 4, P_CG = 5, P_KH = 6, P_KW = 7, P_SH = 8,
  P_SW = 9, P_PH = 10, P_PW = 11, P_DH = 12, P_DW = 13, P_OH = 14, P_OW = 15, P_O = 16, P_OG = 17;

// @ts-ignore: decorator
@inline function prm(p: usize, i: i32): i32 { return load<i32>(p + (<usize>i << 2)); }

/**
 * im2col of column panels [p0, p1) straight into the packed-B layout. Column q = (n, oh, ow) over the
 * whole batch; row k = (c, ki, kj) over the group's Cg input channels. Out-of-map taps are 0.
 */
function im2colPacked(bp: usize, x: usize, prmp: usize, p0: i32, p1: i32): void {
  const N = prm(prmp, P_N), C = prm(prmp, P_C), H = prm(prmp, P_H), W = prm(prmp, P_W);
  const cOff = prm(prmp, P_COFF), Cg = prm(prmp, P_CG), KH = prm(prmp, P_KH), KW = prm(prmp, P_KW);
  const SH = prm(prmp, P_SH), SW = prm(prmp, P_SW), PH = prm(prmp, P_PH), PW = prm(prmp, P_PW);
  const DH = prm(prmp, P_DH), DW = prm(prmp, P_DW), OH = prm(prmp, P_OH), OW = prm(prmp, P_OW);
  const P = OH * OW, total = N * P, K = Cg * KH * KW;
  const HW = <usize>(H * W);
  let q = bp;
  for (let p = p0; p < p1; p++) {
    for (let t = 0; t < 4; t++) {
      const col = p * 4 + t;
      let d = q + (<usize>t << 2);
      if (col >= total) {
        for (let k = 0; k < K; k++) { store<u32>(d, 0); store<u32>(d, 0, 16); d += 32; }
        continue;
      }
      const n = col / P, r = col - n * P;
      const oh = r / OW, ow = r - oh * OW;
      const ih0 = oh * SH - PH, iw0 = ow * SW - PW;
      const base = x + ((<usize>(n * C + cOff) * HW) << 3);
      for (let c = 0; c < Cg; c++) {
        const cb = base + ((<usize>c * HW) << 3);
        for (let ki = 0; ki < KH; ki++) {
          const ih = ih0 + ki * DH;
          const rowOk = ih >= 0 && ih < H;
          const rb = cb + (<usize>(ih * W) << 3);
          for (let kj = 0; kj < KW; kj++) {
            const iw = iw0 + kj * DW;
            const v: i64 = rowOk && iw >= 0 && iw < W ? load<i64>(rb + (<usize>iw << 3)) : 0;
            store<u32>(d, <u32>v);
            store<u32>(d, <u32>(v >>> 32), 16);
            d += 32;
          }
        }
      }
    }
    q += <usize>K << 5;
  }
}

/** Conv as GEMM for column panels [p0, p1): C[o, col] = sum_k W_g[o, k] * im2col[k, col]. */
export function convRange(ap: usize, M4: i32, x: usize, prmp: usize, c: usize, ldc: i32,
                          p0: i32, p1: i32, scratch: usize): void {
  const K = prm(prmp, P_CG) * prm(prmp, P_KH) * prm(prmp, P_KW);
  const cp = chunkPanels(K);
  for (let s = p0; s < p1; s += cp) {
    const e = min(p1, s + cp);
    im2colPacked(scratch, x, prmp, s, e);
    gemmChunk(ap, M4, K, scratch, e - s, c, ldc, s);
  }
}

/**
 * Scatter GEMM rows into NCHW: out[n, oOff + o, :] = C[o, n*P .. n*P+P) for o < Og.
 * (With N = 1, O = Og, oOff = 0 this is the plain row copy that drops the padding of a matmul.)
 */
export function scatterRows(out: usize, c: usize, ldc: i32, Og: i32, O: i32, oOff: i32, N: i32, P: i32): void {
  const pb = <usize>P << 3;
  for (let o = 0; o < Og; o++) {
    for (let n = 0; n < N; n++) {
      memory.copy(out + <usize>(n * O + oOff + o) * pb, c + (<usize>(o * ldc + n * P) << 3), pb);
    }
  }
}

/**
 * Direct convolution for groups with a single input channel (depthwise; Og = O / groups outputs per
 * group). Planes [r0, r1) of the N*O output planes. Weights [O, 1, KH, KW].
 */
export function convDepthwiseRange(out: usize, x: usize, w: usize, prmp: usize, r0: i32, r1: i32): void {
  const C = prm(prmp, P_C), H = prm(prmp, P_H), W = prm(prmp, P_W);
  const KH = prm(prmp, P_KH), KW = prm(prmp, P_KW);
  const SH = prm(prmp, P_SH), SW = prm(prmp, P_SW), PH = prm(prmp, P_PH), PW = prm(prmp, P_PW);
  const DH = prm(prmp, P_DH), DW = prm(prmp, P_DW), OH = prm(prmp, P_OH), OW = prm(prmp, P_OW);
  const O = prm(prmp, P_O), Og = prm(prmp, P_OG);
  const HW = <usize>(H * W), KK = KH * KW;
  for (let r = r0; r < r1; r++) {
    const n = r / O, o = r - n * O;
    const xp = x + ((<usize>(n * C + o / Og) * HW) << 3);
    const wp = w + (<usize>(o * KK) << 3);
    let op = out + (<usize>r * <usize>(OH * OW) << 3);
    for (let oh = 0; oh < OH; oh++) {
      const ih0 = oh * SH - PH;
      for (let ow = 0; ow < OW; ow++) {
        const iw0 = ow * SW - PW;
        let acc: i64 = 0;
        for (let ki = 0; ki < KH; ki++) {
          const ih = ih0 + ki * DH;
          if (ih < 0 || ih >= H) continue;
          const rb = xp + (<usize>(ih * W) << 3);
          const wr = wp + (<usize>(ki * KW) << 3);
          for (let kj = 0; kj < KW; kj++) {
            const iw = iw0 + kj * DW;
            if (iw < 0 || iw >= W) continue;
            acc += load<i64>(wr + (<usize>kj << 3)) * load<i64>(rb + (<usize>iw << 3));
          }
        }
        store<i64>(op, acc);
        op += 8;
      }
    }
  }
}
