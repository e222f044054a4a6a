// pnpm fuzz [-- --count N] [--seed S] [--target NAME]
// Random and mutated inputs for every reader of untrusted bytes (frame decoder, patch-spec validator,
// knapsack instance reader, safetensors reader, ONNX importer), and for the listener (connections from
// an unauthenticated connector, see listener.ts). Pass: only the library's typed errors,
// no crash, no input slower than a second, resident memory bounded. Prints a JSON line per target and a
// summary; exits non-zero on any failure. The full run uses --count 100000 per target.
import { parseArgs } from 'node:util';
import { fuzz, TARGETS } from './targets.ts';
import { fuzzListener } from './listener.ts';

// `pnpm fuzz -- --count N` hands the script a bare `--` (and the nested pnpm may add another): skip them.
const args = process.argv.slice(2).filter((a) => a !== '--');
const { values } = parseArgs({ args, options: { count: { type: 'string', default: '100000' }, seed: { type: 'string' }, target: { type: 'string' } } });
const count = Number(values.count);
if (!Number.isInteger(count) || count < 1) throw new Error(`--count must be a positive integer, got ${values.count}`);
const seed = values.seed ?? String(Date.now());
const targets = TARGETS.filter((t) => !values.target || t.name.includes(values.target));
const withListener = !values.target || 'listener'.includes(values.target);
if (!targets.length && !withListener) throw new Error(`no target matches "${values.target}" (targets: ${TARGETS.map((t) => t.name).join(', ')}, listener)`);

const rss0 = process.memoryUsage().rss;
let peak = rss0, failures = 0, slow = 0;
const rows: { target: string; inputs: number }[] = [];
for (const t of targets) {
  const r = fuzz(t, count, seed, (done) => {
    peak = Math.max(peak, process.memoryUsage().rss);
    if (process.stderr.isTTY) process.stderr.write(`\r${t.name}: ${done}/${count}`);
  });
  if (process.stderr.isTTY) process.stderr.write('\n');
  failures += r.failures;
  if (r.slowestMs > 1000) slow++;
  rows.push(r);
  console.log(JSON.stringify({ ...r, slowestMs: +r.slowestMs.toFixed(1), seconds: +r.seconds.toFixed(1) }));
}
// The listener: connections instead of buffers (a tenth of the count: each is a real TCP connection).
if (withListener) {
  for (const r of await fuzzListener(Math.max(8, Math.round(count / 10)), seed)) {
    failures += r.failures;
    rows.push({ target: r.target, inputs: r.inputs });
    console.log(JSON.stringify({ ...r, seconds: +r.seconds.toFixed(1) }));
  }
}
const peakMb = Math.round(peak / 2 ** 20);
console.log(JSON.stringify({ fuzz: 'summary', seed, count, targets: rows.length, inputs: rows.reduce((s, r) => s + r.inputs, 0), failures, slow_targets: slow, rss_start_mb: Math.round(rss0 / 2 ** 20), rss_peak_mb: peakMb }));
process.exit(failures || slow || peakMb > 2048 ? 1 : 0);
