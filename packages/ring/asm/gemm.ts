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
// A job covers a rectangle of row blocks x column panels and packs what it reads itself, so jobs on
// different threads share nothing but the read-only inputs and write disjoint parts of the output.
// Full 4x4 tiles are stored straight into the output; edge tiles go through a temp tile.

/** Packs rows [r0, r1) of A (row stride lda elements) into row panels; rows past r1 are zero. */
function packA(ap: usize, a: usize, r0: i32, r1: i32, K: i32, lda: i32): void {
  let q = ap;
  for (let blk = r0; blk < r1; blk += 4) {
    for (let k = 0; k < K; k++) {
      for (let r = 0; r < 4; r++) {
        const row = blk + r;
        store<i64>(q, row < r1 ? load<i64>(a + (<usize>(row * lda + k) << 3)) : 0);
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

/** One row of a 4x4 tile: lo + 2^32 * hi for its four columns, stored (or, with acc, added) at q. */
// @ts-ignore: decorator
@inline function putRow(q: usize, l0: v128, l1: v128, h: v128, acc: bool): void {
  let v0 = i64x2.add(l0, i64x2.shl(i64x2.extend_low_i32x4_u(h), 32));
  let v1 = i64x2.add(l1, i64x2.shl(i64x2.extend_high_i32x4_u(h), 32));
  if (acc) {
    v0 = i64x2.add(v0, v128.load(q));
    v1 = i64x2.add(v1, v128.load(q, 16));
  }
  v128.store(q, v0);
  v128.store(q, v1, 16);
}

// @ts-ignore: decorator
@inline function micro(pa: usize, pb: usize, pc: usize, ldcBytes: usize, K: i32, acc: bool): void {
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
  putRow(q, l00, l01, h0, acc); q += ldcBytes;
  putRow(q, l10, l11, h1, acc); q += ldcBytes;
  putRow(q, l20, l21, h2, acc); q += ldcBytes;
  putRow(q, l30, l31, h3, acc);
}

// The narrow micro-kernel, for row panels whose values all fit in signed 32 bits (a server's
// fixed-point weights times a uniformly masked input): with a sign-extended 32-bit a and
// b = lo_s + 2^32 * hi' (lo_s the low word read as signed, hi' = hi + [lo_s < 0] mod 2^32),
// a * b = a * lo_s + 2^32 * (a * hi' mod 2^32)  (mod 2^64),
// the first term an exact signed 32x32->64 product (i64x2.extmul_*_s), so per four multiply-adds
// 2 extmul + 1 i32x4.mul instead of 2 extmul + 2 i32x4.mul, and one splat load instead of two.
// @ts-ignore: decorator
@inline function microNarrow(pa: usize, pb: usize, pc: usize, ldcBytes: usize, K: i32, acc: bool): void {
  let l00 = i64x2.splat(0), l01 = i64x2.splat(0), h0 = i32x4.splat(0);
  let l10 = i64x2.splat(0), l11 = i64x2.splat(0), h1 = i32x4.splat(0);
  let l20 = i64x2.splat(0), l21 = i64x2.splat(0), h2 = i32x4.splat(0);
  let l30 = i64x2.splat(0), l31 = i64x2.splat(0), h3 = i32x4.splat(0);
  for (let k = 0; k < K; k++) {
    const blo = v128.load(pb);
    const bhi = i32x4.sub(v128.load(pb, 16), i32x4.shr_s(blo, 31)); // hi' = hi + [lo_s < 0]
    let a = v128.load32_splat(pa);
    l00 = i64x2.add(l00, i64x2.extmul_low_i32x4_s(a, blo));
    l01 = i64x2.add(l01, i64x2.extmul_high_i32x4_s(a, blo));
    h0 = i32x4.add(h0, i32x4.mul(a, bhi));
    a = v128.load32_splat(pa, 8);
    l10 = i64x2.add(l10, i64x2.extmul_low_i32x4_s(a, blo));
    l11 = i64x2.add(l11, i64x2.extmul_high_i32x4_s(a, blo));
    h1 = i32x4.add(h1, i32x4.mul(a, bhi));
    a = v128.load32_splat(pa, 16);
    l20 = i64x2.add(l20, i64x2.extmul_low_i32x4_s(a, blo));
    l21 = i64x2.add(l21, i64x2.extmul_high_i32x4_s(a, blo));
    h2 = i32x4.add(h2, i32x4.mul(a, bhi));
    a = v128.load32_splat(pa, 24);
    l30 = i64x2.add(l30, i64x2.extmul_low_i32x4_s(a, blo));
    l31 = i64x2.add(l31, i64x2.extmul_high_i32x4_s(a, blo));
    h3 = i32x4.add(h3, i32x4.mul(a, bhi));
    pa += 32; pb += 32;
  }
  let q = pc;
  putRow(q, l00, l01, h0, acc); q += ldcBytes;
  putRow(q, l10, l11, h1, acc); q += ldcBytes;
  putRow(q, l20, l21, h2, acc); q += ldcBytes;
  putRow(q, l30, l31, h3, acc);
}

/** 1 when every one of the n values at p is a sign-extended 32-bit integer (the narrow kernel applies). */
export function fitsI32(p: usize, n: i32): i32 {
  for (let i = 0; i < n; i++) {
    const v = load<i64>(p + (<usize>i << 3));
    if (v != <i64>(<i32>v)) return 0;
  }
  return 1;
}

// Where GEMM results go: C[row, col] with col = n * P + p lands at out[n, oOff + row, p] of an
// [nImg, O, P] tensor (NCHW conv output; a plain [M, N] matrix is nImg = 1, O = M, P = N). `rows` is
// the number of valid rows, `cols` = nImg * P the number of valid columns. (Plain parameters, no
// objects: the stub runtime's allocator is neither freed nor thread-safe.)

/** Stores a 4x4 tile computed into `temp` (4 rows of 4) at rows r0.., columns c0.., skipping the padding. */
function storeEdge(out: usize, rows: i32, O: i32, oOff: i32, P: i32, cols: i32, temp: usize, r0: i32, c0: i32, acc: bool): void {
  for (let t = 0; t < 4; t++) {
    const col = c0 + t;
    if (col >= cols) break;
    const n = col / P, p = col - n * P;
    for (let r = 0; r < 4; r++) {
      const row = r0 + r;
      if (row >= rows) break;
      const dst = out + (<usize>((n * O + oOff + row) * P + p) << 3);
      const v = load<i64>(temp + (<usize>(r * 4 + t) << 3));
      store<i64>(dst, acc ? load<i64>(dst) + v : v);
    }
  }
}

/** Row blocks [b0, b1) of packed A times np packed B panels (global panel index q0..) into out. */
function gemmChunk(ap: usize, b0: i32, b1: i32, K: i32, bp: usize, np: i32, q0: i32,
                   out: usize, rows: i32, O: i32, oOff: i32, P: i32, cols: i32, temp: usize, narrow: bool, acc: bool): void {
  const panelBytes = <usize>K << 5;
  const ldP = <usize>P << 3;
  // A block outer: its 32*K bytes stay in L1/L2 while the chunk of B panels streams past it.
  for (let b = b0; b < b1; b++) {
    const pa = ap + <usize>(b - b0) * panelBytes;
    const r0 = b * 4;
    const fullRows = r0 + 4 <= rows;
    for (let j = 0; j < np; j++) {
      const c0 = (q0 + j) * 4;
      const n = c0 / P, p = c0 - n * P;
      const pb = bp + <usize>j * panelBytes;
      const direct = fullRows && p + 4 <= P;
      const pc = direct ? out + (<usize>((n * O + oOff + r0) * P + p) << 3) : temp;
      const ldc: usize = direct ? ldP : 32;
      if (narrow) microNarrow(pa, pb, pc, ldc, K, acc && direct);
      else micro(pa, pb, pc, ldc, K, acc && direct);
      if (!direct) storeEdge(out, rows, O, oOff, P, cols, temp, r0, c0, acc);
    }
  }
}

/** Number of B panels packed at once: about 256 KiB of packed B, so a chunk stays in L2. */
function chunkPanels(K: i32): i32 {
  return max(1, (256 * 1024) / (K * 32));
}

/**
 * Depth blocking: a product deeper than 512 is packed and multiplied `blockDepth` deep at a time (a
 * multiple of `unit`, the conv's KH*KW, so a block is whole input channels; about 256), so a job's packed
 * A rows and a chunk of B panels stay in cache however deep the product is (DeepLabV3's bottleneck conv
 * is 2560 x 3 x 3 = 23,040 deep: unblocked, every B panel streamed 94 MB of packed A from memory). The
 * output tiles accumulate across the blocks.
 */
export function blockDepth(K: i32, unit: i32): i32 {
  if (K <= 512) return K;
  return min(K, max(1, 256 / unit) * unit);
}

/** Scratch bytes one job needs for block depth KC: packed A rows for `rowBlocks` blocks, a chunk of B panels, a temp tile. */
export function jobScratchBytes(KC: i32, rowBlocks: i32): i32 {
  return rowBlocks * KC * 32 + chunkPanels(KC) * KC * 32 + 128;
}

/**
 * out = a [M, K] x b [K, N] for row blocks [b0, b1) (4 rows each) and column panels [q0, q1)
 * (4 columns each); out is row-major [M, N]. `narrow`: every value of a fits in signed 32 bits (fitsI32).
 */
export function matmulJob(a: usize, b: usize, out: usize, M: i32, N: i32, K: i32,
                          b0: i32, b1: i32, q0: i32, q1: i32, scratch: usize, narrow: bool): void {
  const KC = blockDepth(K, 1), cp = chunkPanels(KC);
  const ap = scratch;
  const bp = ap + <usize>(b1 - b0) * (<usize>KC << 5);
  const temp = bp + <usize>cp * (<usize>KC << 5);
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = min(KC, K - k0);
    packA(ap, a + (<usize>k0 << 3), b0 * 4, min(b1 * 4, M), kc, K);
    for (let s = q0; s < q1; s += cp) {
      const e = min(q1, s + cp);
      packB(bp, b + (<usize>(k0 * N) << 3), kc, N, s, e);
      gemmChunk(ap, b0, b1, kc, bp, e - s, s, out, M, M, 0, N, N, temp, narrow, k0 > 0);
    }
  }
}

// Conv parameter block (i32 words), written by the JS side.
const P_N = 0, P_C = 1, P_H = 2, P_W = 3, P_COFF = 4, P_CG = 5, P_KH = 6, P_KW = 7, P_SH = 8,
  P_SW = 9, P_PH = 10, P_PW = 11, P_DH = 12, P_DW = 13, P_OH = 14, P_OW = 15, P_O = 16, P_OG = 17,
  P_OOFF = 18;

// @ts-ignore: decorator
@inline function prm(p: usize, i: i32): i32 { return load<i32>(p + (<usize>i << 2)); }

/**
 * im2col of column panels [p0, p1) straight into the packed-B layout. Column q = (n, oh, ow) over the
 * whole batch; row k = (c, ki, kj) over the group's input channels [c0, c1). Out-of-map taps are 0.
 */
function im2colPacked(bp: usize, x: usize, prmp: usize, p0: i32, p1: i32, c0: i32, c1: i32): void {
  const N = prm(prmp, P_N), OH = prm(prmp, P_OH), OW = prm(prmp, P_OW);
  const K = (c1 - c0) * prm(prmp, P_KH) * prm(prmp, P_KW);
  const P = OH * OW, total = N * P;
  let q = bp;
  for (let p = p0; p < p1; p++) {
    const col = p * 4;
    const n = col / P, r = col - n * P;
    const oh = r / OW, ow = r - oh * OW;
    if (ow + 3 < OW && col + 3 < total) im2colRow(q, x, prmp, n, oh, ow, c0, c1);
    else for (let t = 0; t < 4; t++) im2colPixel(q + (<usize>t << 2), x, prmp, col + t, P, total, c0, c1);
    q += <usize>K << 5;
  }
}

/** The common case: the panel's 4 pixels are neighbours (n, oh, ow..ow+3) in one output row. */
function im2colRow(q: usize, x: usize, prmp: usize, n: i32, oh: i32, ow: i32, c0: i32, c1: i32): void {
  const C = prm(prmp, P_C), H = prm(prmp, P_H), W = prm(prmp, P_W);
  const cOff = prm(prmp, P_COFF), KH = prm(prmp, P_KH), KW = prm(prmp, P_KW);
  const SH = prm(prmp, P_SH), SW = prm(prmp, P_SW), PH = prm(prmp, P_PH), PW = prm(prmp, P_PW);
  const DH = prm(prmp, P_DH), DW = prm(prmp, P_DW);
  const HW = <usize>(H * W);
  const ih0 = oh * SH - PH, iw0 = ow * SW - PW;
  const sw = <usize>SW << 3;
  let d = q;
  for (let c = c0; c < c1; c++) {
    const cb = x + ((<usize>(n * C + cOff + c) * HW) << 3);
    for (let ki = 0; ki < KH; ki++) {
      const ih = ih0 + ki * DH;
      if (ih < 0 || ih >= H) {
        memory.fill(d, 0, <usize>KW << 5);
        d += <usize>KW << 5;
        continue;
      }
      const rb = cb + (<usize>(ih * W) << 3);
      for (let kj = 0; kj < KW; kj++) {
        const iw = iw0 + kj * DW;
        let v0: v128, v1: v128;
        if (iw >= 0 && iw + 3 * SW < W) {
          const s = rb + (<usize>iw << 3);
          if (SW == 1) {
            v0 = v128.load(s);
            v1 = v128.load(s, 16);
          } else {
            v0 = v128.load64_lane(s + sw, v128.load64_zero(s), 1);
            v1 = v128.load64_lane(s + 3 * sw, v128.load64_zero(s + 2 * sw), 1);
          }
        } else {
          v0 = i64x2.replace_lane(i64x2.splat(tap(rb, iw, W)), 1, tap(rb, iw + SW, W));
          v1 = i64x2.replace_lane(i64x2.splat(tap(rb, iw + 2 * SW, W)), 1, tap(rb, iw + 3 * SW, W));
        }
        v128.store(d, i32x4.shuffle(v0, v1, 0, 2, 4, 6));
        v128.store(d, i32x4.shuffle(v0, v1, 1, 3, 5, 7), 16);
        d += 32;
      }
    }
  }
}

// @ts-ignore: decorator
@inline function tap(rb: usize, iw: i32, W: i32): i64 {
  return iw >= 0 && iw < W ? load<i64>(rb + (<usize>iw << 3)) : 0;
}

/** One column (pixel) of a panel, any position; lane t of each 32-byte row starts at q. */
function im2colPixel(q: usize, x: usize, prmp: usize, col: i32, P: i32, total: i32, c0: i32, c1: i32): void {
  const C = prm(prmp, P_C), H = prm(prmp, P_H), W = prm(prmp, P_W), OW = prm(prmp, P_OW);
  const cOff = prm(prmp, P_COFF), KH = prm(prmp, P_KH), KW = prm(prmp, P_KW);
  const SH = prm(prmp, P_SH), SW = prm(prmp, P_SW), PH = prm(prmp, P_PH), PW = prm(prmp, P_PW);
  const DH = prm(prmp, P_DH), DW = prm(prmp, P_DW);
  const K = (c1 - c0) * KH * KW;
  let d = q;
  if (col >= total) {
    for (let k = 0; k < K; k++) { store<u32>(d, 0); store<u32>(d, 0, 16); d += 32; }
    return;
  }
  const n = col / P, r = col - n * P;
  const oh = r / OW, ow = r - oh * OW;
  const ih0 = oh * SH - PH, iw0 = ow * SW - PW;
  const HW = <usize>(H * W);
  for (let c = c0; c < c1; c++) {
    const cb = x + ((<usize>(n * C + cOff + c) * HW) << 3);
    for (let ki = 0; ki < KH; ki++) {
      const ih = ih0 + ki * DH;
      const rowOk = ih >= 0 && ih < H;
      const rb = cb + (<usize>(ih * W) << 3);
      for (let kj = 0; kj < KW; kj++) {
        const v: i64 = rowOk ? tap(rb, iw0 + kj * DW, W) : 0;
        store<u32>(d, <u32>v);
        store<u32>(d, <u32>(v >>> 32), 16);
        d += 32;
      }
    }
  }
}

/**
 * One group of a conv as GEMM, for row blocks [b0, b1) of the group's Og output channels and column
 * panels [q0, q1) of the N*OH*OW output pixels: out[n, oOff + o, p] = sum_k W_g[o, k] * im2col[k, (n, p)].
 * wg points at the group's weights [Og, K]; the parameter block gives the geometry and cOff/oOff.
 * `narrow`: every weight fits in signed 32 bits (fitsI32).
 */
export function convJob(wg: usize, x: usize, prmp: usize, out: usize,
                        b0: i32, b1: i32, q0: i32, q1: i32, scratch: usize, narrow: bool): void {
  const Og = prm(prmp, P_OG), Cg = prm(prmp, P_CG), taps = prm(prmp, P_KH) * prm(prmp, P_KW);
  const K = Cg * taps;
  const KC = blockDepth(K, taps), cp = chunkPanels(KC);
  const ap = scratch;
  const bp = ap + <usize>(b1 - b0) * (<usize>KC << 5);
  const temp = bp + <usize>cp * (<usize>KC << 5);
  const O = prm(prmp, P_O), oOff = prm(prmp, P_OOFF);
  const P = prm(prmp, P_OH) * prm(prmp, P_OW), cols = prm(prmp, P_N) * P;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = min(KC, K - k0), c0 = k0 / taps;
    packA(ap, wg + (<usize>k0 << 3), b0 * 4, min(b1 * 4, Og), kc, K);
    for (let s = q0; s < q1; s += cp) {
      const e = min(q1, s + cp);
      im2colPacked(bp, x, prmp, s, e, c0, c0 + kc / taps);
      gemmChunk(ap, b0, b1, kc, bp, e - s, s, out, Og, O, oOff, P, cols, temp, narrow, k0 > 0);
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
