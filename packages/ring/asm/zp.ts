// Z_p digit kernels for PrivateCompare (p prime, 3 <= p <= 67): rejection sampling from PRF bytes,
// per-element permutations, the masked comparison digits, zero search, and packing at `bits` per digit.
// Digits are bytes in [0, p).

/** floor(b / q) for b < 256 and 2 <= q <= 67: (b * ceil(2^16 / q)) >> 16 (exact: the error b / 2^16 < 1 / q). */
// @ts-ignore: decorator
@inline function div8(b: i32, inv16: i32): i32 {
  return (b * inv16) >>> 16;
}

/**
 * Uniform digits by rejection: with q = p (nonZero = 0) a byte b < 256 - 256 % q gives b % q; with
 * q = p - 1 (nonZero = 1) it gives 1 + b % q. Reads src[0..srcLen), writes at most `want` digits;
 * returns how many it wrote.
 */
export function zpSample(src: usize, srcLen: i32, out: usize, want: i32, nonZero: i32, p: i32): i32 {
  // Branch-free: every byte is written at out[o]; o advances only when the byte is accepted.
  const q = nonZero ? p - 1 : p, limit = 256 - (256 % q), inv = (65536 + q - 1) / q;
  let o = 0;
  for (let i = 0; i < srcLen && o < want; i++) {
    const b = <i32>load<u8>(src + i);
    store<u8>(out + o, <u8>(b - q * div8(b, inv) + nonZero));
    o += <i32>(b < limit);
  }
  return o;
}

/**
 * Fisher–Yates permutations of [0, m) (m <= 128), rows [row0, n), each index from one byte by
 * rejection. Stops at the first row the bytes cannot finish; returns the number of rows completed.
 */
export function zpPermutations(src: usize, srcLen: i32, out: usize, n: i32, m: i32, row0: i32): i32 {
  let at = 0;
  for (let row = row0; row < n; row++) {
    const o = out + <usize>(row * m);
    for (let b = 0; b < m; b++) store<u8>(o + b, <u8>b);
    for (let b = m - 1; b > 0; b--) {
      const span = b + 1;
      const limit = 256 - (256 % span);
      let r: i32;
      do {
        if (at >= srcLen) return row - row0;
        r = <i32>load<u8>(src + at);
        at++;
      } while (r >= limit);
      const k = r % span;
      const t = load<u8>(o + b);
      store<u8>(o + b, load<u8>(o + k));
      store<u8>(o + k, t);
    }
  }
  return n - row0;
}

/**
 * This party's PrivateCompare vector (see relu-protocols/src/private-compare.ts for the formulas):
 * for element i with bits x (shares), r (public), beta: c_b, then d[perm_b] = s_b c_b +/- rho_b.
 * `third` marks elements in the beta = 1, r = all-ones branch; their c comes from u (m digits each,
 * consumed in order).
 */
export function zpCompareDigits(x: usize, r: usize, beta: usize, s: usize, rho: usize, perm: usize, u: usize,
                                out: usize, n: i32, m: i32, j: i32, P: i32): void {
  const inv20 = ((1 << 20) + P - 1) / P;
  let ui: usize = 0;
  for (let i = 0; i < n; i++) {
    const o = <usize>(i * m);
    const be = <i32>load<u8>(beta + i);
    let allOnes = be == 1;
    if (allOnes) for (let b = 0; b < m; b++) if (load<u8>(r + o + b) != 1) { allOnes = false; break; }
    if (allOnes) {
      for (let b = 0; b < m; b++) {
        const ub = <i32>load<u8>(u + ui + b);
        const c = j == 0 ? (b == 0 ? ub : (ub + 1 == P ? 0 : ub + 1)) : (ub == 0 ? 0 : P - ub);
        place(out, o, perm, s, rho, b, c, j, P, inv20);
      }
      ui += <usize>m;
      continue;
    }
    // carry propagation for t = r + beta (MSB first: start from the last bit)
    let carry = be;
    let firstCarryStop = m; // bits at index >= firstCarryStop are flipped by the +1
    if (carry) {
      let b = m - 1;
      while (b >= 0 && load<u8>(r + o + b) == 1) b--;
      firstCarryStop = b; // bit b goes 0 -> 1, bits after it 1 -> 0
    }
    let sum = 0;
    for (let b = 0; b < m; b++) {
      let tb = <i32>load<u8>(r + o + b);
      if (carry && b >= firstCarryStop) tb = b == firstCarryStop ? 1 : 0;
      const xb = <i32>load<u8>(x + o + b);
      let c: i32;
      if (be == 0) c = j * tb - xb + j + sum;
      else c = xb - j * tb + j + sum;
      c += select(P, 0, c < 0);
      c -= select(P, 0, c >= P);
      c -= select(P, 0, c >= P);
      place(out, o, perm, s, rho, b, c, j, P, inv20);
      sum += tb ? j + P - xb : xb;
      if (sum >= P) sum -= P;
    }
  }
}

// @ts-ignore: decorator
@inline function place(out: usize, o: usize, perm: usize, s: usize, rho: usize, b: i32, c: i32, j: i32, P: i32, inv20: i32): void {
  const x = <i32>load<u8>(s + o + b) * c; // < p * p
  const sc = x - P * ((x * inv20) >>> 20); // x mod p: floor(x / p) = (x * ceil(2^20 / p)) >> 20, exact for x < p^2 while p^3 < 2^20
  const rb = <i32>load<u8>(rho + o + b);
  let d = j == 0 ? sc + rb : sc - rb;
  if (d >= P) d -= P;
  if (d < 0) d += P;
  store<u8>(out + o + <usize>load<u8>(perm + o + b), <u8>d);
}

/** out[i] = 1 iff some position b has d0 + d1 = 0 (mod p). */
export function zpFindZero(d0: usize, d1: usize, out: usize, n: i32, m: i32, P: i32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>(i * m);
    let z: u8 = 0;
    for (let b = 0; b < m; b++) {
      const v = <i32>load<u8>(d0 + o + b) + <i32>load<u8>(d1 + o + b);
      if (v == 0 || v == P) { z = 1; break; }
    }
    store<u8>(out + i, z);
  }
}

/** (a - b) mod p, elementwise. */
export function zpSub(out: usize, a: usize, b: usize, n: i32, P: i32): void {
  for (let i = 0; i < n; i++) {
    let v = <i32>load<u8>(a + i) - <i32>load<u8>(b + i);
    if (v < 0) v += P;
    store<u8>(out + i, <u8>v);
  }
}

/**
 * Packs n digits at `bits` bits each (LSB first) into out (ceil(bits * n / 8) bytes). Returns 0, or
 * 1 + index of a digit >= p.
 */
export function zpPack(out: usize, d: usize, n: i32, bits: i32, P: i32): i32 {
  let acc: u32 = 0, nbits = 0, o: usize = 0;
  for (let i = 0; i < n; i++) {
    const v = <u32>load<u8>(d + i);
    if (v >= <u32>P) return i + 1;
    acc |= v << nbits;
    nbits += bits;
    while (nbits >= 8) { store<u8>(out + o, <u8>acc); o++; acc >>= 8; nbits -= 8; }
  }
  if (nbits > 0) store<u8>(out + o, <u8>acc);
  return 0;
}

/**
 * Unpacks n digits of `bits` bits. Returns 0 if well formed, 1 + index of the first digit >= p, or -1
 * when the padding bits are not zero.
 */
export function zpUnpack(out: usize, src: usize, n: i32, bits: i32, P: i32): i32 {
  let acc: u32 = 0, nbits = 0, s: usize = 0;
  const mask: u32 = (1 << bits) - 1;
  for (let i = 0; i < n; i++) {
    if (nbits < bits) { acc |= <u32>load<u8>(src + s) << nbits; s++; nbits += 8; }
    const v = acc & mask;
    if (v >= <u32>P) return i + 1;
    store<u8>(out + i, <u8>v);
    acc >>= bits;
    nbits -= bits;
  }
  return acc != 0 ? -1 : 0;
}

/** Number of elements with beta = 1 and all m bits of r equal to 1 (PrivateCompare's third branch). */
export function zpCountThird(r: usize, beta: usize, n: i32, m: i32): i32 {
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (load<u8>(beta + i) != 1) continue;
    const o = <usize>(i * m);
    let all = true;
    for (let b = 0; b < m; b++) if (load<u8>(r + o + b) != 1) { all = false; break; }
    if (all) count++;
  }
  return count;
}

/** MSB-first bits of the low k bits of n u32 values: out[i*k + j] = bit (k-1-j) of v[i]. */
export function bitsOfU32(out: usize, v: usize, n: i32, k: i32): void {
  for (let i = 0; i < n; i++) {
    const x = load<u32>(v + (<usize>i << 2));
    const o = out + <usize>(i * k);
    for (let j = 0; j < k; j++) store<u8>(o + j, <u8>((x >>> <u32>(k - 1 - j)) & 1));
  }
}

/**
 * Splits n k-bit values (u32) into their top bit (out top[i]) and their k-1 low bits, MSB first
 * (out low[i*(k-1) + j] = bit k-2-j).
 */
export function splitTopBits(top: usize, low: usize, v: usize, n: i32, k: i32): void {
  const m = k - 1;
  for (let i = 0; i < n; i++) {
    const x = load<u32>(v + (<usize>i << 2));
    store<u8>(top + i, <u8>((x >>> <u32>m) & 1));
    const o = low + <usize>(i * m);
    for (let j = 0; j < m; j++) store<u8>(o + j, <u8>((x >>> <u32>(m - 1 - j)) & 1));
  }
}
