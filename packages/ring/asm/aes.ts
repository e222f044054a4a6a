// AES-128 in counter mode with 32-bit T-tables (the classic "fst" formulation), for browsers, where the
// PRF has no AES instructions to call: the tables and the round keys are prepared by src/aes.ts.
//   te: Te0..Te3, 4 x 256 u32 (Te1..Te3 are Te0 rotated right by 8, 16, 24 bits)
//   rk: the 44 round-key words (big-endian words of the expanded key)
//   ctr: the 16-byte big-endian counter block, advanced by one per block written
// Writes `blocks` keystream blocks (16 bytes each) at out.

// @ts-ignore: decorator
@inline function te(t: usize, k: u32, x: u32): u32 {
  return load<u32>(t + ((<usize>k << 10) | (<usize>(x & 255) << 2)));
}

/** One keystream block of the counter (c0..c3) at p. */
// @ts-ignore: decorator
@inline function block(p: usize, rk: usize, t: usize, c0: u32, c1: u32, c2: u32, c3: u32): void {
  let s0 = c0 ^ load<u32>(rk), s1 = c1 ^ load<u32>(rk, 4), s2 = c2 ^ load<u32>(rk, 8), s3 = c3 ^ load<u32>(rk, 12);
  for (let r = 1; r < 10; r++) {
    const k = rk + (<usize>r << 4);
    const t0 = te(t, 0, s0 >> 24) ^ te(t, 1, s1 >> 16) ^ te(t, 2, s2 >> 8) ^ te(t, 3, s3) ^ load<u32>(k);
    const t1 = te(t, 0, s1 >> 24) ^ te(t, 1, s2 >> 16) ^ te(t, 2, s3 >> 8) ^ te(t, 3, s0) ^ load<u32>(k, 4);
    const t2 = te(t, 0, s2 >> 24) ^ te(t, 1, s3 >> 16) ^ te(t, 2, s0 >> 8) ^ te(t, 3, s1) ^ load<u32>(k, 8);
    const t3 = te(t, 0, s3 >> 24) ^ te(t, 1, s0 >> 16) ^ te(t, 2, s1 >> 8) ^ te(t, 3, s2) ^ load<u32>(k, 12);
    s0 = t0; s1 = t1; s2 = t2; s3 = t3;
  }
  // The last round: S-box bytes only, taken from the tables where they hold S[x] in that byte.
  const k = rk + 160;
  const o0 = (te(t, 2, s0 >> 24) & 0xff000000) ^ (te(t, 3, s1 >> 16) & 0x00ff0000) ^ (te(t, 0, s2 >> 8) & 0x0000ff00) ^ (te(t, 1, s3) & 0x000000ff) ^ load<u32>(k);
  const o1 = (te(t, 2, s1 >> 24) & 0xff000000) ^ (te(t, 3, s2 >> 16) & 0x00ff0000) ^ (te(t, 0, s3 >> 8) & 0x0000ff00) ^ (te(t, 1, s0) & 0x000000ff) ^ load<u32>(k, 4);
  const o2 = (te(t, 2, s2 >> 24) & 0xff000000) ^ (te(t, 3, s3 >> 16) & 0x00ff0000) ^ (te(t, 0, s0 >> 8) & 0x0000ff00) ^ (te(t, 1, s1) & 0x000000ff) ^ load<u32>(k, 8);
  const o3 = (te(t, 2, s3 >> 24) & 0xff000000) ^ (te(t, 3, s0 >> 16) & 0x00ff0000) ^ (te(t, 0, s1 >> 8) & 0x0000ff00) ^ (te(t, 1, s2) & 0x000000ff) ^ load<u32>(k, 12);
  store<u32>(p, bswap<u32>(o0)); store<u32>(p, bswap<u32>(o1), 4); store<u32>(p, bswap<u32>(o2), 8); store<u32>(p, bswap<u32>(o3), 12);
}

export function aesCtr128(out: usize, blocks: i32, rk: usize, t: usize, ctr: usize): void {
  let c0 = bswap<u32>(load<u32>(ctr)), c1 = bswap<u32>(load<u32>(ctr, 4)), c2 = bswap<u32>(load<u32>(ctr, 8)), c3 = bswap<u32>(load<u32>(ctr, 12));
  for (let b = 0; b < blocks; b++) {
    block(out + (<usize>b << 4), rk, t, c0, c1, c2, c3);
    // The 128-bit big-endian counter, plus one.
    c3 += 1;
    if (c3 == 0) { c2 += 1; if (c2 == 0) { c1 += 1; if (c1 == 0) c0 += 1; } }
  }
  store<u32>(ctr, bswap<u32>(c0)); store<u32>(ctr, bswap<u32>(c1), 4); store<u32>(ctr, bswap<u32>(c2), 8); store<u32>(ctr, bswap<u32>(c3), 12);
}
