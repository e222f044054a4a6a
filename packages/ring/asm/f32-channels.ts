// Per-channel and elementwise float32 kernels for the float engine's batch norm and ReLU masks, on
// [N, C, P] arrays (P = H * W values per map). Channel kernels take the channel range [c0, c1) of one
// job; elementwise ones the range [i0, i1). Sums accumulate in f64 (the lanes of each f32x4 promoted).

// @ts-ignore: decorator
@inline function ld(p: usize): f32 { return load<f32>(p); }

// @ts-ignore: decorator
@inline function hi2(v: v128): v128 { return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)); }

/** sums[2c] = sum of x over the channel's N maps, sums[2c + 1] = sum of x^2 (f64). */
export function channelSumsF32(sums: usize, x: usize, N: i32, C: i32, P: i32, c0: i32, c1: i32): void {
  for (let c = c0; c < c1; c++) {
    let s = f64x2.splat(0), s2 = f64x2.splat(0);
    let t: f64 = 0, t2: f64 = 0;
    for (let n = 0; n < N; n++) {
      const base = x + (<usize>((n * C + c) * P) << 2);
      let i = 0;
      for (; i + 4 <= P; i += 4) {
        const v = v128.load(base + (<usize>i << 2));
        const lo = f64x2.promote_low_f32x4(v), hi = hi2(v);
        s = f64x2.add(s, f64x2.add(lo, hi));
        s2 = f64x2.add(s2, f64x2.add(f64x2.mul(lo, lo), f64x2.mul(hi, hi)));
      }
      for (; i < P; i++) { const v = <f64>ld(base + (<usize>i << 2)); t += v; t2 += v * v; }
    }
    store<f64>(sums + (<usize>(2 * c) << 3), t + f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1));
    store<f64>(sums + (<usize>(2 * c + 1) << 3), t2 + f64x2.extract_lane(s2, 0) + f64x2.extract_lane(s2, 1));
  }
}

/**
 * Per channel c with coef[4c .. 4c + 3] = (a, b, mu, s): y = x a + b, and xhat = (x - mu) s unless
 * xhat is 0.
 */
export function channelAffineF32(y: usize, xhat: usize, x: usize, coef: usize, N: i32, C: i32, P: i32, c0: i32, c1: i32): void {
  for (let c = c0; c < c1; c++) {
    const q = coef + (<usize>(4 * c) << 2);
    const a = f32x4.splat(ld(q)), b = f32x4.splat(ld(q + 4)), mu = f32x4.splat(ld(q + 8)), s = f32x4.splat(ld(q + 12));
    for (let n = 0; n < N; n++) {
      const off = <usize>((n * C + c) * P) << 2;
      let i = 0;
      for (; i + 4 <= P; i += 4) {
        const o = off + (<usize>i << 2), v = v128.load(x + o);
        v128.store(y + o, f32x4.add(f32x4.mul(v, a), b));
        if (xhat) v128.store(xhat + o, f32x4.mul(f32x4.sub(v, mu), s));
      }
      for (; i < P; i++) {
        const o = off + (<usize>i << 2), v = ld(x + o);
        store<f32>(y + o, v * ld(q) + ld(q + 4));
        if (xhat) store<f32>(xhat + o, (v - ld(q + 8)) * ld(q + 12));
      }
    }
  }
}

/** sums[2c] = sum of dy over the channel, sums[2c + 1] = sum of dy * xhat (f64). */
export function channelGradSumsF32(sums: usize, dy: usize, xhat: usize, N: i32, C: i32, P: i32, c0: i32, c1: i32): void {
  for (let c = c0; c < c1; c++) {
    let s = f64x2.splat(0), s2 = f64x2.splat(0);
    let t: f64 = 0, t2: f64 = 0;
    for (let n = 0; n < N; n++) {
      const off = <usize>((n * C + c) * P) << 2;
      let i = 0;
      for (; i + 4 <= P; i += 4) {
        const o = off + (<usize>i << 2), g = v128.load(dy + o), h = v128.load(xhat + o);
        const glo = f64x2.promote_low_f32x4(g), ghi = hi2(g);
        s = f64x2.add(s, f64x2.add(glo, ghi));
        s2 = f64x2.add(s2, f64x2.add(f64x2.mul(glo, f64x2.promote_low_f32x4(h)), f64x2.mul(ghi, hi2(h))));
      }
      for (; i < P; i++) {
        const o = off + (<usize>i << 2), g = <f64>ld(dy + o);
        t += g;
        t2 += g * <f64>ld(xhat + o);
      }
    }
    store<f64>(sums + (<usize>(2 * c) << 3), t + f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1));
    store<f64>(sums + (<usize>(2 * c + 1) << 3), t2 + f64x2.extract_lane(s2, 0) + f64x2.extract_lane(s2, 1));
  }
}

/** Per channel c with coef[4c .. 4c + 2] = (a, b, e): dx = dy a + xhat b + e. */
export function channelAffine2F32(dx: usize, dy: usize, xhat: usize, coef: usize, N: i32, C: i32, P: i32, c0: i32, c1: i32): void {
  for (let c = c0; c < c1; c++) {
    const q = coef + (<usize>(4 * c) << 2);
    const a = f32x4.splat(ld(q)), b = f32x4.splat(ld(q + 4)), e = f32x4.splat(ld(q + 8));
    for (let n = 0; n < N; n++) {
      const off = <usize>((n * C + c) * P) << 2;
      let i = 0;
      for (; i + 4 <= P; i += 4) {
        const o = off + (<usize>i << 2);
        v128.store(dx + o, f32x4.add(f32x4.add(f32x4.mul(v128.load(dy + o), a), f32x4.mul(v128.load(xhat + o), b)), e));
      }
      for (; i < P; i++) {
        const o = off + (<usize>i << 2);
        store<f32>(dx + o, ld(dy + o) * ld(q) + ld(xhat + o) * ld(q + 4) + ld(q + 8));
      }
    }
  }
}

/**
 * Capped ReLU on [i0, i1): y = x where 0 < x < cap (mask 1), cap where x >= cap, 0 elsewhere (NaN
 * included); mask 0 where the value was not passed. cap is the f32 at capp (Infinity for a ReLU).
 */
export function reluMaskF32(y: usize, mask: usize, x: usize, capp: usize, i0: i32, i1: i32): void {
  const capS = ld(capp), cap = f32x4.splat(capS), zero = f32x4.splat(0), one = i8x16.splat(1);
  let i = i0;
  for (; i + 16 <= i1; i += 16) {
    const o = <usize>i << 2;
    const v0 = v128.load(x + o), v1 = v128.load(x + o + 16), v2 = v128.load(x + o + 32), v3 = v128.load(x + o + 48);
    const p0 = v128.and(f32x4.gt(v0, zero), f32x4.lt(v0, cap)), p1 = v128.and(f32x4.gt(v1, zero), f32x4.lt(v1, cap));
    const p2 = v128.and(f32x4.gt(v2, zero), f32x4.lt(v2, cap)), p3 = v128.and(f32x4.gt(v3, zero), f32x4.lt(v3, cap));
    v128.store(y + o, v128.bitselect(v0, v128.and(cap, f32x4.ge(v0, cap)), p0));
    v128.store(y + o + 16, v128.bitselect(v1, v128.and(cap, f32x4.ge(v1, cap)), p1));
    v128.store(y + o + 32, v128.bitselect(v2, v128.and(cap, f32x4.ge(v2, cap)), p2));
    v128.store(y + o + 48, v128.bitselect(v3, v128.and(cap, f32x4.ge(v3, cap)), p3));
    const m = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(p0, p1), i16x8.narrow_i32x4_s(p2, p3));
    v128.store(mask + <usize>i, v128.and(m, one));
  }
  for (; i < i1; i++) {
    const v = ld(x + (<usize>i << 2));
    const pass = v > 0 && v < capS;
    store<u8>(mask + <usize>i, pass ? 1 : 0);
    store<f32>(y + (<usize>i << 2), pass ? v : v >= capS ? capS : 0);
  }
}

/** dx = dy where mask is 1, 0 where it is 0, on [i0, i1). */
export function maskMulF32(dx: usize, dy: usize, mask: usize, i0: i32, i1: i32): void {
  const zero = i32x4.splat(0);
  let i = i0;
  for (; i + 16 <= i1; i += 16) {
    const o = <usize>i << 2, m = v128.load(mask + <usize>i);
    const lo = i16x8.extend_low_i8x16_u(m), hi = i16x8.extend_high_i8x16_u(m);
    const k0 = i32x4.ne(i32x4.extend_low_i16x8_u(lo), zero), k1 = i32x4.ne(i32x4.extend_high_i16x8_u(lo), zero);
    const k2 = i32x4.ne(i32x4.extend_low_i16x8_u(hi), zero), k3 = i32x4.ne(i32x4.extend_high_i16x8_u(hi), zero);
    v128.store(dx + o, v128.and(v128.load(dy + o), k0));
    v128.store(dx + o + 16, v128.and(v128.load(dy + o + 16), k1));
    v128.store(dx + o + 32, v128.and(v128.load(dy + o + 32), k2));
    v128.store(dx + o + 48, v128.and(v128.load(dy + o + 48), k3));
  }
  for (; i < i1; i++) store<f32>(dx + (<usize>i << 2), load<u8>(mask + <usize>i) ? ld(dy + (<usize>i << 2)) : 0);
}
