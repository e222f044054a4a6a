// pnpm soak [-- --count N] [--spec S]
// 1,000 (or N) consecutive secure inferences of the Fashion-MNIST network in one session: client, server
// and helper as three local processes over TLS, one image per batch. Pass: no error, resident memory of
// every party flat (end within 16 MiB of its level after the first tenth), time per inference stable (the
// last tenth's median within 1.5x of the second tenth's). Prints the memory and time profile as JSON lines.
import { parseArgs } from 'node:util';
import { runLocal } from '@si/cli';
import { emit, round } from './_harness.ts';

const { values } = parseArgs({ args: process.argv.slice(2).filter((a) => a !== '--'), options: { count: { type: 'string', default: '1000' }, spec: { type: 'string', default: 'knapsack:0.06' }, quick: { type: 'boolean' }, seed: { type: 'string' } } });
const count = values.quick ? 100 : Number(values.count);
const t0 = performance.now();
const r = await runLocal({
  model: 'fmnist-resnet', weights: 'synthetic:soak', spec: values.spec, mode: 'small16', batch: 1, timeoutSeconds: 60,
  input: { kind: 'random', count, seed: 'soak' },
  onEvent: (role, e) => role === 'client' && e.event === 'batch' && (e.done as number) % Math.max(1, count / 10) === 0 && process.stderr.write(`soak: ${e.done}/${count} inferences, ${round(e.seconds as number, 1)} s\n`),
});
const online = r.batchSeconds.online.map((s, i) => s + r.batchSeconds.preprocess[i]!);
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
const tenth = Math.max(1, Math.floor(count / 10));
const deciles = Array.from({ length: 10 }, (_, d) => round(1000 * median(online.slice(d * tenth, (d + 1) * tenth)), 1));
let flat = true;
for (const [role, p] of Object.entries(r.parties)) {
  const base = p.memory.samplesMb[Math.min(1, p.memory.samplesMb.length - 1)] ?? p.memory.afterSetupMb;
  const ok = p.memory.endMb - base <= 16;
  flat &&= ok;
  emit({ party: role, rss_after_setup_mb: p.memory.afterSetupMb, rss_samples_mb: p.memory.samplesMb, rss_end_mb: p.memory.endMb, flat: ok });
}
const stable = deciles[9]! <= 1.5 * deciles[1]!;
emit({
  soak: 'summary', inferences: r.images, errors: 0, labels: r.labels.length, seconds: round((performance.now() - t0) / 1000, 1),
  ms_per_inference_by_tenth: deciles, memory_flat: flat, time_stable: stable,
  bytes_per_inference: Math.round((r.online.bytes + r.preprocess.bytes) / r.images),
});
// Fails on a lost inference or memory that grows; the time per inference is reported, not judged (a shared,
// noisy machine slows down at random: a wall-clock threshold would fail for reasons that are not ours).
if (!stable) process.stderr.write(`soak: the last tenth ran at ${deciles[9]} ms per inference against ${deciles[1]} ms in the second (over 1.5x; see time_stable)\n`);
process.exit(flat && r.labels.length === count ? 0 : 1);
