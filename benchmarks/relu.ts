// pnpm bench:relu [-- --quick]
// Bits per DReLU measured from the ledgers (full 64-bit, paper mode k=16, small-ring k=16 with d=4, and
// the SecureNN structure for reference), the sign error rate of each truncated mode on activation-like
// values, DReLU throughput with three processes over loopback TLS, and the label-only output stage (the
// secure argmax and the opening) per image for 10, 100 and 1000 classes next to the network before it.
import seedrandom from 'seedrandom';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeDeploymentCerts } from '@si/cli';
import { encodeFixed } from '@si/ring';
import { localParties, measuredCost, reveal, shareInput, totalBytes } from '@si/sharing';
import { argmaxShallow, drelu, dreluCost, dreluSecureNN, researchDreluBits, shallowGroup, topk, type DreluMode } from '@si/relu-protocols';
import { classifyCost, fmnistResNet, prepareSecureCost, publicModel, resnet18Cifar, resnet50, secureForwardCost, type Reveal } from '@si/models';
import { sequential, type Cost } from '@si/sharing';
import { emit, flags, round } from './_harness.ts';
import { spawnTs } from './_spawn.ts';

const { quick, seed } = flags();
const F = 12; // fractional bits of the activations
const MODES: [string, DreluMode][] = [
  ['full', { mode: 'full' }],
  ['paper16', { mode: 'paper', dropLowBits: 4, keepBits: 16 }],
  ['small16', { mode: 'small-ring', dropLowBits: 4, keepBits: 16 }],
  ['small12', { mode: 'small-ring', dropLowBits: 4, keepBits: 12 }],
  ['small20', { mode: 'small-ring', dropLowBits: 0, keepBits: 20 }],
];

// Activation-like sample: pre-activations of a batch-normalised CNN, 90% N(0, 1.5^2) and a 10% Laplace(0, 4)
// tail, at 12 fractional bits.
function sample(n: number): Float64Array {
  const r = seedrandom(`${seed}/acts`);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (r() < 0.9) out[i] = 1.5 * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    else out[i] = (r() < 0.5 ? -1 : 1) * 4 * -Math.log(1 - r());
  }
  return out;
}

// 1. Bits per DReLU and sign errors, in one process (the ledgers count every payload byte).
const n = quick ? 100_000 : 400_000;
const vals = sample(n);
const x = encodeFixed(vals, F);
const parties = await localParties();
const xs = parties.map((p) => shareInput(p, 0, [n], p.id === 0 ? x : undefined));
const bits: Record<string, number> = {};
const errors: Record<string, number> = {};
for (const [name, mode] of MODES) {
  const out = await Promise.all(parties.map((p) => p.scope(name, async (q) => (await drelu(q, xs[p.id]!, mode)).toShared(q))));
  const opened = (await Promise.all(parties.map((p) => reveal(p, out[p.id]!, 'client'))))[0]!;
  // Error against the sign of the encoded value (the protocol's error, not the encoding's rounding).
  let wrong = 0;
  for (let i = 0; i < n; i++) if (opened.data[i] !== (x.data[i]! >= 0n ? 1n : 0n)) wrong++;
  const measured = totalBytes(measuredCost(parties, name));
  if (measured !== totalBytes(dreluCost(n, mode))) throw new Error(`${name}: measured bytes differ from the declared cost`);
  bits[name] = (8 * measured) / n;
  errors[name] = wrong / n;
  const w = mode.mode === 'full' ? null : { d: mode.dropLowBits, k: mode.keepBits, real_window: 2 ** (mode.dropLowBits + mode.keepBits - 1 - F), resolution: 2 ** (mode.dropLowBits - F) };
  emit({ bench: 'relu', case: 'bits', mode: name, bits_per_drelu: round(bits[name]!, 2), sign_error_rate: errors[name], window: w, n });
}
const sn = await Promise.all(parties.map((p) => p.scope('securenn', (q) => dreluSecureNN(q, xs[p.id]!))));
void sn;
bits.securenn = (8 * totalBytes(measuredCost(parties, 'securenn'))) / n;
emit({ bench: 'relu', case: 'bits', mode: 'securenn-structure', bits_per_drelu: round(bits.securenn, 2), research_code_bits_k64: researchDreluBits(64), research_code_bits_k16: researchDreluBits(16) });
for (const p of parties) p.close();
emit({
  bench: 'relu', case: 'sample',
  distribution: 'pre-activations: 90% N(0, 1.5^2) + 10% Laplace(0, 4), 12 fractional bits',
  n, negative_fraction: round(vals.filter((v) => v < 0).length / n, 4), beyond_16: round(vals.filter((v) => Math.abs(v) >= 16).length / n, 6),
});

// 2. Throughput: three processes over loopback TLS 1.3 (mutual authentication, as deployed), small-ring k=16.
const tn = 1_000_000, reps = quick ? 3 : 5;
const certs = join(mkdtempSync(join(tmpdir(), 'si-bench-certs-')), 'certs');
writeDeploymentCerts(certs, { days: 1 });
const mode = JSON.stringify(MODES[2]![1]);
const party = new URL('./relu-party.ts', import.meta.url);
const env = { SI_THREADS: '1' };
const helper = spawnTs(party, ['helper', '0', '0', String(tn), String(reps), mode, certs], env);
const hp = (await helper.next()).port as number;
const server = spawnTs(party, ['server', '0', String(hp), String(tn), String(reps), mode, certs], env);
const sp = (await server.next()).port as number;
const client = spawnTs(party, ['client', String(sp), String(hp), String(tn), String(reps), mode, certs], env);
const results = await Promise.all([client.next(), server.next(), helper.next()]);
await Promise.all([client.done, server.done, helper.done]);
rmSync(join(certs, '..'), { recursive: true, force: true });
const perRep = Array.from({ length: reps }, (_, r) => Math.max(...results.map((o) => (o.times as number[])[r]!)));
const best = Math.min(...perRep);
const sent = results.reduce((s, o) => s + (o.sent as number), 0);
emit({ bench: 'relu', case: 'throughput', processes: 3, transport: 'tls-loopback', mode: 'small16', n: tn, seconds: perRep.map((s) => round(s)), bits_per_drelu: round((8 * sent) / tn, 2) });

// 3. The output stage per image: what label-only (and top-5) output costs against the network itself.
// Measured on shared random logits at 2f bits (the untruncated output layer) in one process; the ledger
// must equal classifyCost. The network's cost is declared (secureForwardCost + prepareSecureCost, all
// ReLUs, small16; tests hold those equal to the ledgers).
const OUTPUTS: [string, () => ReturnType<typeof fmnistResNet>][] = [['fmnist-resnet', () => fmnistResNet()], ['resnet18-cifar', () => resnet18Cifar(100)], ['resnet50', () => resnet50(1000)]];
const B = 8;
const outParties = await localParties();
const argmaxRows: Record<string, unknown>[] = [];
for (const [name, make] of OUTPUTS) {
  const model = publicModel(make(), F);
  const classes = model.graph.node(model.graph.output).shape[0]!;
  const sumCost = (m: Map<string, Cost>) => [...m.values()].reduce((s, c) => s + totalBytes(c), 0);
  const online = await secureForwardCost(model, B, { mode: MODES[2]![1], prepared: true });
  const netBytes = (sumCost(online) + sumCost(await prepareSecureCost(model, B))) / B;
  const netRounds = sequential(...online.values()).rounds;
  const logits = encodeFixed(sample(B * classes).map((v) => v * 4), 2 * F, [B, classes]);
  for (const what of [{ kind: 'label' }, { kind: 'topk', k: 5 }] as Reveal[]) {
    const label = `${name}-${what.kind}`;
    const ls = outParties.map((p) => shareInput(p, 0, [B, classes], p.id === 0 ? logits : undefined));
    const t0 = performance.now();
    await Promise.all(outParties.map((p) => p.scope(label, async (q) => q.scope('output', async (o) => {
      const y = what.kind === 'label' ? (await argmaxShallow(o, ls[p.id]!, 1, shallowGroup(classes))).index : await topk(o, ls[p.id]!, (what as { k: number }).k);
      return reveal(o, y, 'client');
    }))));
    const seconds = (performance.now() - t0) / 1000;
    const got = measuredCost(outParties, `${label}/output`), want = classifyCost(model, B, what);
    if (totalBytes(got) !== totalBytes(want) || got.rounds !== want.rounds) throw new Error(`${label}: measured ${totalBytes(got)} B / ${got.rounds} rounds, declared ${totalBytes(want)} B / ${want.rounds}`);
    const row = {
      bench: 'relu', case: 'output', model: name, classes, reveal: what.kind === 'topk' ? 'topk:5' : 'label', batch: B,
      bytes_per_image: totalBytes(got) / B, rounds: got.rounds, seconds_per_batch: round(seconds, 3),
      network_bytes_per_image: Math.round(netBytes), network_online_rounds: netRounds, share_of_bytes: round(totalBytes(got) / B / netBytes, 6),
    };
    argmaxRows.push(row);
    emit(row);
  }
}
for (const p of outParties) p.close();

emit({
  bench: 'relu',
  quick,
  bits_full: round(bits.full!, 2),
  bits_paper16: round(bits.paper16!, 2),
  bits_small16: round(bits.small16!, 2),
  bits_securenn: round(bits.securenn!, 2),
  research_bits_full: researchDreluBits(64),
  research_bits_16: researchDreluBits(16),
  drelu_per_s: Math.round(tn / best),
  sign_error_paper16: errors.paper16,
  sign_error_small16: errors.small16,
  sign_error_small12: errors.small12,
  sign_error_small20: errors.small20,
  argmax_bytes_per_image: Object.fromEntries(argmaxRows.filter((r) => r.reveal === 'label').map((r) => [String(r.classes), r.bytes_per_image])),
  argmax_rounds: Object.fromEntries(argmaxRows.filter((r) => r.reveal === 'label').map((r) => [String(r.classes), r.rounds])),
});
