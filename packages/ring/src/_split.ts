/** Splits [0, n) into `parts` near-equal contiguous ranges (empty ranges dropped). */
export function splitRange(n: number, parts: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < parts; i++) {
    const a = Math.floor((n * i) / parts), b = Math.floor((n * (i + 1)) / parts);
    if (b > a) out.push([a, b]);
  }
  return out;
}
