import { localParties, shareInput } from '@si/sharing';
import { drelu } from './src/index.ts';
import { activations } from './test/_parties.ts';
const ps = await localParties();
const n = 1_000_000;
const x = activations('perf', n);
const xs = ps.map((p) => shareInput(p, 0, [n], p.id === 0 ? x : undefined));
for (let rep = 0; rep < 3; rep++) {
  const t0 = performance.now();
  const times: number[] = [0, 0, 0];
  await Promise.all(ps.map(async (p) => { await drelu(p, xs[p.id]!, { mode: 'small-ring', dropLowBits: 4, keepBits: 16 }); times[p.id] = performance.now() - t0; }));
  console.log('total ms', (performance.now() - t0).toFixed(0), times.map((t) => t.toFixed(0)));
}
for (const p of ps) p.close();
