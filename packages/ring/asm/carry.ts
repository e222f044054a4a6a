// Kernels of the carry comparison (relu-protocols/src/carry-compare.ts has the formulas): n elements of
// m bits (m <= 30), m + 1 digits of Z_p (p prime, 3 * 2^m + 2 < p < 2^32) per element, one u32 per digit
// in memory, `bits` = ceil(log2 p) bits per digit on the wire, packed LSB-first.

/**
 * Uniform values by rejection on little-endian 32-bit words masked to `bits` bits: a word w < q gives
 * w + nonZero (so [0, q) or [1, q]). Reads src[0..words), writes at most `want`; returns how many it wrote.
 */
export function carrySample(src: usize, words: i32, out: usize, want: i32, q: u32, bits: i32, nonZero: u32): i32 {
  const mask: u32 = bits >= 32 ? 0xffffffff : (<u32>1 << <u32>bits) - 1;
  let o = 0;
  // Branch-free: every word is written at out[o]; o advances only when the word is accepted.
  for (let i = 0; i < words && o < want; i++) {
    const w = load<u32>(src + (<usize>i << 2)) & mask;
    store<u32>(out + (<usize>o << 2), w + nonZero);
    o += <i32>(w < q);
  }
  return o;
}

/**
 * One party's digits: element e with value v (P0: a, P1: b) and bit beta; its number is X = 2a (P0) or
 * Y = 2(2^m - 1 - b) + 1 (P1), its side the greater one when beta XOR j = 0; digit i is its part of
 * c_i = 3 (X_(i+1) - Y_(i+1)) + x_i - y_i - 1, times s, plus rho (P0) or minus rho (P1), stored at perm_i.
 */
export function carryDigits(v: usize, beta: usize, s: usize, rho: usize, perm: usize, out: usize, n: i32, m: i32, j: i32, P: u32): void {
  const E = m + 1;
  const top: u32 = (<u32>1 << <u32>m) - 1;
  const p64 = <u64>P;
  for (let e = 0; e < n; e++) {
    const ve = load<u32>(v + (<usize>e << 2));
    const own: u32 = j == 0 ? ve << 1 : ((top - ve) << 1) | 1;
    const greater = (<i32>load<u8>(beta + <usize>e) ^ j) == 0;
    const row = <usize>(e * E);
    for (let i = 0; i < E; i++) {
      const part = <u64>(3 * (own >>> <u32>(i + 1)) + ((own >>> <u32>i) & 1)); // < P
      // X side: 3 X_(i+1) + x_i - 1 (mod p); Y side: -(3 Y_(i+1) + y_i). Both in [0, p].
      const c: u64 = greater ? (part == 0 ? p64 - 1 : part - 1) : p64 - part;
      const sc = (<u64>load<u32>(s + ((row + <usize>i) << 2)) * c) % p64;
      const r = <u64>load<u32>(rho + ((row + <usize>i) << 2));
      let d = j == 0 ? sc + r : sc + p64 - r;
      if (d >= p64) d -= p64;
      store<u32>(out + ((row + <usize>load<u8>(perm + row + <usize>i)) << 2), <u32>d);
    }
  }
}

/** Packs `count` u32 digits at `bits` bits each (LSB first) into ceil(count * bits / 8) bytes. */
export function carryPack(out: usize, digits: usize, count: i32, bits: i32): void {
  let acc: u64 = 0, have = 0, o = out;
  for (let i = 0; i < count; i++) {
    acc |= <u64>load<u32>(digits + (<usize>i << 2)) << <u64>have;
    have += bits;
    while (have >= 8) {
      store<u8>(o++, <u8>acc);
      acc >>= 8;
      have -= 8;
    }
  }
  if (have > 0) store<u8>(o, <u8>acc);
}

/** Unpacks `count` digits; returns 0, 1 + the index of a digit >= P, or -1 for non-zero padding bits. */
export function carryUnpack(out: usize, src: usize, count: i32, bits: i32, P: u32): i32 {
  const mask: u64 = (<u64>1 << <u64>bits) - 1;
  let acc: u64 = 0, have = 0, at = src;
  for (let i = 0; i < count; i++) {
    while (have < bits) {
      acc |= <u64>load<u8>(at++) << <u64>have;
      have += 8;
    }
    const d = <u32>(acc & mask);
    acc >>= <u64>bits;
    have -= bits;
    if (d >= P) return i + 1;
    store<u32>(out + (<usize>i << 2), d);
  }
  return acc != 0 ? -1 : 0;
}

/** out[e] = 1 iff some digit i of element e has a_i + b_i = 0 (mod P). */
export function carryZeros(a: usize, b: usize, out: usize, n: i32, E: i32, P: u32): void {
  const p64 = <u64>P;
  for (let e = 0; e < n; e++) {
    const row = <usize>(e * E);
    let z: u8 = 0;
    for (let i = 0; i < E; i++) {
      const t = <u64>load<u32>(a + ((row + <usize>i) << 2)) + <u64>load<u32>(b + ((row + <usize>i) << 2));
      if (t == 0 || t == p64) z = 1;
    }
    store<u8>(out + <usize>e, z);
  }
}
