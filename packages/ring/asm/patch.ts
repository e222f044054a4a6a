// Patch sums and their broadcast back, on [planes, H, W] i64 maps. Patches tile the map from the
// top-left; the last row/column of patches is partial when ph or pw does not divide H or W.

/** out[p, a, b] = sum of x[p, a*ph .. a*ph+ph-1, b*pw .. b*pw+pw-1] (clipped to the map). */
export function patchSumI64(out: usize, x: usize, planes: i32, H: i32, W: i32, ph: i32, pw: i32): void {
  const PH = (H + ph - 1) / ph, PW = (W + pw - 1) / pw;
  const plane = <usize>(H * W) << 3, oplane = <usize>(PH * PW) << 3;
  for (let p = 0; p < planes; p++) {
    const xp = x + <usize>p * plane, op = out + <usize>p * oplane;
    memory.fill(op, 0, oplane);
    for (let h = 0; h < H; h++) {
      const row = xp + (<usize>(h * W) << 3);
      const orow = op + (<usize>((h / ph) * PW) << 3);
      for (let w = 0; w < W; w++) {
        const q = orow + (<usize>(w / pw) << 3);
        store<i64>(q, load<i64>(q) + load<i64>(row + (<usize>w << 3)));
      }
    }
  }
}

/** out[p, h, w] = s[p, h / ph, w / pw]: every pixel gets the value of its patch. */
export function patchExpandI64(out: usize, s: usize, planes: i32, H: i32, W: i32, ph: i32, pw: i32): void {
  const PH = (H + ph - 1) / ph, PW = (W + pw - 1) / pw;
  const plane = <usize>(H * W) << 3, splane = <usize>(PH * PW) << 3;
  for (let p = 0; p < planes; p++) {
    const sp = s + <usize>p * splane, op = out + <usize>p * plane;
    for (let h = 0; h < H; h++) {
      const srow = sp + (<usize>((h / ph) * PW) << 3);
      const orow = op + (<usize>(h * W) << 3);
      for (let w = 0; w < W; w++) store<i64>(orow + (<usize>w << 3), load<i64>(srow + (<usize>(w / pw) << 3)));
    }
  }
}
