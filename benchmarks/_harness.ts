// Shared bench helpers: flags, timing on a noisy machine, JSON-line output.
import seedrandom from 'seedrandom';

/**
 * Command-line flags (a bare `--` from `pnpm x -- --quick` is ignored). `extra` are further boolean flags;
 * `valued` flags take the next argument (`--profile wan`), read with value().
 */
export function flags(extra: readonly string[] = [], valued: readonly string[] = []): { quick: boolean; seed: string; has(flag: string): boolean; value(flag: string): string | undefined } {
  const argv = process.argv.slice(2).filter((a) => a !== '--');
  const values = new Map<string, string>();
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (valued.includes(argv[i]!)) {
      if (argv[i + 1] === undefined) (console.error(`${argv[i]} needs a value`), process.exit(2));
      values.set(argv[i]!, argv[++i]!);
    } else rest.push(argv[i]!);
  }
  const unknown = rest.filter((a) => a !== '--quick' && !a.startsWith('--seed=') && !extra.includes(a));
  if (unknown.length > 0) {
    console.error(`unknown arguments: ${unknown.join(' ')} (known: --quick, --seed=S${[...extra, ...valued.map((v) => `${v} V`)].map((e) => `, ${e}`).join('')})`);
    process.exit(2);
  }
  const seed = rest.find((a) => a.startsWith('--seed='))?.slice(7) ?? 'bench';
  return { quick: rest.includes('--quick'), seed, has: (f) => rest.includes(f), value: (f) => values.get(f) };
}

/** Prints one JSON object per line. */
export function emit(obj: Record<string, unknown>): void {
  console.log(JSON.stringify(obj));
}

/** Seconds taken by fn. */
export function time(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return (performance.now() - t0) / 1000;
}

/**
 * Runs each variant `rounds` times, interleaved (A B C A B C ...), and keeps each one's fastest time:
 * on a shared machine the minimum is the least disturbed measurement, and interleaving exposes all
 * variants to the same background load. `warmup` untimed rounds come first: V8 starts WebAssembly in
 * its baseline compiler and tiers hot functions up after a few calls, separately in each worker.
 */
export function bestOf(rounds: number, variants: Record<string, () => void>, warmup = 1): Record<string, number> {
  const best: Record<string, number> = {};
  for (let r = 0; r < warmup; r++) for (const fn of Object.values(variants)) fn();
  for (let r = 0; r < rounds; r++) {
    for (const [name, fn] of Object.entries(variants)) {
      const t = time(fn);
      if (!(name in best) || t < best[name]!) best[name] = t;
    }
  }
  return best;
}

/** Deterministic random 64-bit test data (seedrandom: test data only). */
export function randomI64(seed: string, n: number): BigInt64Array {
  const r = seedrandom(seed);
  const out = new BigInt64Array(n);
  const w = new Int32Array(out.buffer);
  for (let i = 0; i < w.length; i++) w[i] = r.int32();
  return out;
}

export const round = (x: number, digits = 3): number => Number(x.toFixed(digits));
