// Elementwise kernels on i64 arrays of n elements (mod 2^64, two's complement).
// Pointers may alias (out == a is the in-place form). Two lanes per step, scalar tail.

export function addI64(out: usize, a: usize, b: usize, n: i32): void {
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const o = <usize>i << 3;
    v128.store(out + o, i64x2.add(v128.load(a + o), v128.load(b + o)));
  }
  if (i < n) { const o = <usize>i << 3; store<i64>(out + o, load<i64>(a + o) + load<i64>(b + o)); }
}

export function subI64(out: usize, a: usize, b: usize, n: i32): void {
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const o = <usize>i << 3;
    v128.store(out + o, i64x2.sub(v128.load(a + o), v128.load(b + o)));
  }
  if (i < n) { const o = <usize>i << 3; store<i64>(out + o, load<i64>(a + o) - load<i64>(b + o)); }
}

export function mulI64(out: usize, a: usize, b: usize, n: i32): void {
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const o = <usize>i << 3;
    v128.store(out + o, i64x2.mul(v128.load(a + o), v128.load(b + o)));
  }
  if (i < n) { const o = <usize>i << 3; store<i64>(out + o, load<i64>(a + o) * load<i64>(b + o)); }
}

export function negI64(out: usize, a: usize, n: i32): void {
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const o = <usize>i << 3;
    v128.store(out + o, i64x2.neg(v128.load(a + o)));
  }
  if (i < n) { const o = <usize>i << 3; store<i64>(out + o, -load<i64>(a + o)); }
}

/** out = a * s + t (s, t scalars given as 32-bit halves so the JS side never builds a BigInt). */
export function affineI64(out: usize, a: usize, n: i32, sLo: u32, sHi: u32, tLo: u32, tHi: u32): void {
  const s = (<i64>sHi << 32) | <i64>sLo;
  const t = (<i64>tHi << 32) | <i64>tLo;
  const vs = i64x2.splat(s), vt = i64x2.splat(t);
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const o = <usize>i << 3;
    v128.store(out + o, i64x2.add(i64x2.mul(v128.load(a + o), vs), vt));
  }
  if (i < n) { const o = <usize>i << 3; store<i64>(out + o, load<i64>(a + o) * s + t); }
}

/** Arithmetic shift right by `bits` (0..63): floor(x / 2^bits). */
export function shrSI64(out: usize, a: usize, n: i32, bits: i32): void {
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const o = <usize>i << 3;
    v128.store(out + o, i64x2.shr_s(v128.load(a + o), bits));
  }
  if (i < n) { const o = <usize>i << 3; store<i64>(out + o, load<i64>(a + o) >> bits); }
}

/** Logical shift right by `bits` (0..63). */
export function shrUI64(out: usize, a: usize, n: i32, bits: i32): void {
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const o = <usize>i << 3;
    v128.store(out + o, i64x2.shr_u(v128.load(a + o), bits));
  }
  if (i < n) { const o = <usize>i << 3; store<i64>(out + o, <i64>(<u64>load<i64>(a + o) >> bits)); }
}

/** Left shift by `bits` (0..63), i.e. multiplication by 2^bits mod 2^64. */
export function shlI64(out: usize, a: usize, n: i32, bits: i32): void {
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const o = <usize>i << 3;
    v128.store(out + o, i64x2.shl(v128.load(a + o), bits));
  }
  if (i < n) { const o = <usize>i << 3; store<i64>(out + o, load<i64>(a + o) << bits); }
}

/** dst[o, i] = sum_l src[o, l, i] for a [outer, len, inner] view. dst must not alias src. */
export function sumAxisI64(dst: usize, src: usize, outer: i32, len: i32, inner: i32): void {
  const rowBytes = <usize>inner << 3;
  for (let o = 0; o < outer; o++) {
    const d = dst + <usize>o * rowBytes;
    const s0 = src + <usize>o * <usize>len * rowBytes;
    memory.copy(d, s0, rowBytes);
    for (let l = 1; l < len; l++) addI64(d, d, s0 + <usize>l * rowBytes, inner);
  }
}
