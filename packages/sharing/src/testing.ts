/**
 * The generic protocol checker (`@si/sharing/testing`): runs any protocol record on three local parties
 * over random and edge inputs and asserts that the opened result equals the record's cleartext twin
 * (exactly, or within the tolerance the record declares) and that the parties' ledgers equal the
 * declared cost. Each parameter case also runs twice concurrently under sibling scopes, which must give
 * the same results with the bytes added and the rounds of one (parallel composition).
 *
 * Inputs reach the parties without any protocol (the checker splits each value into random shares
 * itself), so the ledger holds only the protocol's own traffic. Test data comes from AES-CTR keyed by
 * the seed: reproducible, and not a protocol's randomness.
 * @module
 */
import { createHash } from 'node:crypto';
import { RingTensor, shapeSize } from '@si/ring';
import { SharedBit } from './bit.ts';
import { measuredCost, parallel, type Cost } from './cost.ts';
import { createCA, issueCert, LinkServer, type TlsCredentials } from '@si/net';
import { connectParty } from './network.ts';
import { localParties, type Party } from './party.ts';
import { PrfStream } from './prf.ts';
import { RING, type Domain, type Input, type Output, type OutputKind, type ProtocolSpec, type Slot } from './protocol.ts';
import { DIRS } from './roles.ts';
import { Shared } from './shared.ts';

export type Trio = [Party, Party, Party];

/** Any protocol record, for lists of records of different parameter types. */
export type AnyProtocol = ProtocolSpec<any>;

type Creds = { client: TlsCredentials; server: TlsCredentials; helper: TlsCredentials };

let testCreds: Creds | undefined;

/** TLS credentials of the three roles under a throwaway CA made once per process (tests only). */
export function testCredentials(): Creds {
  if (!testCreds) {
    const ca = createCA({ name: 'si test CA', days: 1 });
    const issue = (role: 'client' | 'server' | 'helper') => ({ ca: ca.cert, ...issueCert(ca, { role, hosts: ['127.0.0.1', 'localhost'], days: 1 }) });
    testCreds = { client: issue('client'), server: issue('server'), helper: issue('helper') };
  }
  return testCreds;
}

/**
 * Three parties over loopback TLS 1.3 with mutual authentication (the given credentials, or
 * testCredentials()), keys agreed; `'insecure-plaintext'` uses plain TCP instead (loopback only).
 */
export async function tcpParties(tls: Creds | 'insecure-plaintext' = testCredentials(), connectTimeoutMs = 5000): Promise<Trio> {
  const creds = tls === 'insecure-plaintext' ? undefined : tls;
  const plain = tls === 'insecure-plaintext' ? { insecurePlaintext: true } : {};
  const serverL = await LinkServer.listen({ self: 'server', port: 0, tls: creds?.server, peers: ['client'], ...plain });
  const helperL = await LinkServer.listen({ self: 'helper', port: 0, tls: creds?.helper, peers: ['client', 'server'], ...plain });
  const deployment = { server: { host: '127.0.0.1', port: serverL.port }, helper: { host: '127.0.0.1', port: helperL.port } };
  try {
    return (await Promise.all([
      connectParty({ role: 'client', deployment, tls: creds?.client, connectTimeoutMs, ...plain }),
      connectParty({ role: 'server', deployment, tls: creds?.server, listener: serverL, connectTimeoutMs, ...plain }),
      connectParty({ role: 'helper', deployment, tls: creds?.helper, listener: helperL, connectTimeoutMs, ...plain }),
    ])) as Trio;
  } finally {
    await serverL.close();
    await helperL.close();
  }
}

/** The transports the protocol tests run on: in-memory links and loopback TLS. */
export const TRANSPORTS: readonly [string, () => Promise<Trio>][] = [
  ['memory', () => localParties() as Promise<Trio>],
  ['tls', () => tcpParties()],
];

/** Runs fn on the three parties concurrently. */
export function all<T>(ps: Trio, fn: (p: Party) => T | Promise<T>): Promise<[T, T, T]> {
  return Promise.all(ps.map((p) => fn(p))) as Promise<[T, T, T]>;
}

/** Runs fn on each party in a scope `label` (the child views). */
export function scoped<T>(ps: Trio, label: string, fn: (q: Party) => T | Promise<T>): Promise<[T, T, T]> {
  return all(ps, (p) => p.scope(label, fn));
}

/** Ends the three parties' session. */
export function closeAll(ps: Trio): void {
  for (const p of ps) p.close();
}

/** Splits a value into random shares of P0 and P1 without a protocol (a test's starting point); the helper gets its placeholder. */
export function shareValue(x: RingTensor, data: TestData = new TestData('shareValue')): [Shared, Shared, Shared] {
  const s0 = data.ring(x.shape);
  return [new Shared(x.shape, s0), new Shared(x.shape, x.sub(s0)), new Shared(x.shape, null)];
}

/** Opens shares in a test: s0 + s1. */
export const openShares = (xs: readonly Shared[]): RingTensor => xs[0]!.share!.add(xs[1]!.share!);

/** A failed check: what protocol, which parameters and trial, and what differed. */
export class CheckError extends Error {
  override readonly name = 'CheckError';
}

export interface CheckOptions<P> {
  /** Parameter cases (default: the record's examples). */
  params?: readonly P[];
  /** Random trials per case after the edge trial (default 2). */
  trials?: number;
  /** Seed of the test data (default: the record's name). */
  seed?: string;
  /** Parties to run on (default: fresh local parties, closed afterwards). */
  parties?: Trio;
}

export interface CheckReport {
  name: string;
  cases: number;
  runs: number;
  /** Input elements checked, over all runs. */
  elements: number;
}

/** Seeded test data (never protocol randomness). */
export class TestData {
  private readonly prf: PrfStream;
  private n = 0;

  constructor(seed: string) {
    this.prf = new PrfStream(createHash('sha256').update(`si/testing/${seed}`).digest().subarray(0, 16), 'test-data');
  }

  /** Uniform ring elements. */
  ring(shape: readonly number[]): RingTensor {
    return this.prf.ring(`r${this.n++}`, shape);
  }

  /** Uniform bits. */
  bits(n: number): Uint8Array {
    return this.prf.bits(`b${this.n++}`, n);
  }

  /**
   * Values in a domain; `edges` of them (from the start) cycle through the domain's edge values (interval
   * ends and their neighbours, 0 and ±1 where inside), the rest are uniform in a random interval.
   */
  inDomain(shape: readonly number[], domain: Domain, edges = 0): RingTensor {
    const n = shapeSize(shape);
    const raw = this.ring([2 * n]).data;
    const ends = edgeValues(domain);
    const out = new BigInt64Array(n);
    for (let i = 0; i < n; i++) {
      if (i < edges && ends.length > 0) {
        out[i] = ends[i % ends.length]!;
        continue;
      }
      const [lo, hi] = domain[Number(BigInt.asUintN(64, raw[2 * i]!) % BigInt(domain.length))]!;
      out[i] = BigInt.asIntN(64, lo + (BigInt.asUintN(64, raw[2 * i + 1]!) % (hi - lo + 1n)));
    }
    return new RingTensor(out, shape);
  }
}

/** The edge values of a domain: each interval's ends and their inner neighbours, and 0, ±1 where inside. */
export function edgeValues(domain: Domain): bigint[] {
  const inside = (v: bigint) => domain.some(([lo, hi]) => v >= lo && v <= hi);
  const out = new Set<bigint>();
  for (const [lo, hi] of domain) for (const v of [lo, lo + 1n, hi - 1n, hi]) if (inside(v)) out.add(v);
  for (const v of [0n, 1n, -1n, 2n ** 62n, -(2n ** 62n)]) if (inside(v)) out.add(v);
  return [...out];
}

/** Splits values into what each party holds, per slot. */
function distribute(slots: readonly Slot[], values: readonly RingTensor[], data: TestData): [Input[], Input[], Input[]] {
  const at: [Input[], Input[], Input[]] = [[], [], []];
  slots.forEach((slot, i) => {
    const v = values[i]!;
    const as = slot.as ?? 'shared';
    if (as === 'shared') {
      const s0 = data.ring(v.shape);
      at[0].push(new Shared(v.shape, s0));
      at[1].push(new Shared(v.shape, v.sub(s0)));
      at[2].push(new Shared(v.shape, null));
    } else if (as === 'bit') {
      const b = bitsOf(v, `input ${i}`);
      const h = data.bits(b.length);
      const u = b.map((x, j) => x ^ h[j]!);
      const v0 = data.ring(v.shape);
      const vRing = new RingTensor(BigInt64Array.from(h, (x) => BigInt(x)), v.shape);
      at[0].push(new SharedBit(v.shape, u, v0, null));
      at[1].push(new SharedBit(v.shape, u, vRing.sub(v0), null));
      at[2].push(new SharedBit(v.shape, null, null, h));
    } else {
      for (const id of [0, 1, 2] as const) at[id].push(as === 'public' || (as === 'client' && id === 0) || (as === 'server' && id === 1) ? v : null);
    }
  });
  return at;
}

function bitsOf(v: RingTensor, what: string): Uint8Array {
  const out = new Uint8Array(v.size);
  for (let i = 0; i < v.size; i++) {
    const x = v.data[i]!;
    if (x !== 0n && x !== 1n) throw new CheckError(`${what}: a bit input must be 0 or 1, got ${x} at ${i}`);
    out[i] = Number(x);
  }
  return out;
}

function valuesFor(slots: readonly Slot[], data: TestData, edge: boolean): RingTensor[] {
  return slots.map((s) => {
    const domain = s.domain ?? (s.as === 'bit' ? [[0n, 1n]] : RING);
    const n = shapeSize(s.shape);
    return data.inDomain(s.shape, domain, edge ? n : Math.ceil(n / 10));
  });
}

/** What the parties' outputs open to, after checking each party holds what the output kind says. */
function opened<P>(rec: ProtocolSpec<P>, kind: OutputKind, outs: Output[], ps: Trio, where: string): RingTensor {
  const asShared = (o: Output, p: Party): Shared | null => (o instanceof SharedBit ? o.toShared(p) : o instanceof Shared ? o : null);
  if (kind === 'shared') {
    const [s0, s1, s2] = outs.map((o, i) => asShared(o, ps[i]!));
    if (!s0?.share || !s1?.share) throw new CheckError(`${where}: P0 and P1 must return shares`);
    if (s2?.share) throw new CheckError(`${where}: the helper returned a share; it must hold none`);
    return rec.open ? rec.open(s0.share, s1.share) : s0.share.add(s1.share);
  }
  const holders = { client: [0], server: [1], both: [0, 1], helper: [2] }[kind];
  outs.forEach((o, i) => {
    const holds = holders.includes(i);
    if (holds !== o instanceof RingTensor) throw new CheckError(`${where}: party ${i} ${holds ? 'must return the opened value' : 'must return null (the value is not opened to it)'}`);
  });
  const first = outs[holders[0]!] as RingTensor;
  for (const i of holders) if (!(outs[i] as RingTensor).equals(first)) throw new CheckError(`${where}: the parties opened different values`);
  return first;
}

function compare<P>(rec: ProtocolSpec<P>, got: RingTensor, want: RingTensor, values: readonly RingTensor[], params: P, where: string): void {
  if (got.shape.join() !== want.shape.join()) throw new CheckError(`${where}: result shape [${got.shape.join(',')}], twin [${want.shape.join(',')}]`);
  if (rec.tolerance) {
    const bad = rec.tolerance.check(got, want, values, params);
    if (bad) throw new CheckError(`${where}: outside the tolerance (${rec.tolerance.describe}): ${bad}`);
    return;
  }
  for (let i = 0; i < got.size; i++) {
    if (got.data[i] !== want.data[i]) {
      const ins = values.map((v) => (v.size === got.size ? v.data[i] : '…')).join(', ');
      throw new CheckError(`${where}: element ${i} is ${got.data[i]}, the twin says ${want.data[i]} (inputs at ${i}: ${ins})`);
    }
  }
}

const norm = (c: Cost): Cost => ({ bytes: Object.fromEntries(DIRS.filter((d) => c.bytes[d]).map((d) => [d, c.bytes[d]])), rounds: c.rounds });

/**
 * Asserts that a measured cost (measuredCost) has the declared bytes per link and rounds.
 * @throws {CheckError} saying both
 */
export function expectCost(got: Cost, want: Cost, where = 'cost'): void {
  const g = norm(got), w = norm(want);
  if (JSON.stringify(g) !== JSON.stringify(w)) throw new CheckError(`${where}: the ledger recorded ${JSON.stringify(g)}, the record declares ${JSON.stringify(w)}`);
}

let runs = 0;

/**
 * Checks a protocol record: for each parameter case, one trial on edge values, `trials` random ones, and
 * two concurrent runs under sibling scopes.
 * @throws {CheckError} naming the protocol, parameters, trial and what differed
 */
export async function checkProtocol<P>(rec: ProtocolSpec<P>, o: CheckOptions<P> = {}): Promise<CheckReport> {
  const cases = o.params ?? rec.examples;
  if (cases.length === 0) throw new CheckError(`"${rec.name}" has no parameter cases to check`);
  const ps = o.parties ?? ((await localParties()) as Trio);
  const data = new TestData(o.seed ?? rec.name);
  const report: CheckReport = { name: rec.name, cases: cases.length, runs: 0, elements: 0 };
  try {
    for (const [c, params] of cases.entries()) {
      const slots = rec.inputs(params);
      const kind = typeof rec.output === 'function' ? rec.output(params) : rec.output ?? 'shared';
      const cost = rec.cost(params);
      const prepare = (t: number) => {
        const values = valuesFor(slots, data, t === 0);
        return { t, values, inputs: distribute(slots, values, data) };
      };
      const verify = (r: ReturnType<typeof prepare>, outs: Output[], what: string): void => {
        const where = `"${rec.name}" case ${c} ${describe(params)}, ${what}`;
        compare(rec, opened(rec, kind, outs, ps, where), rec.clear(r.values, params), r.values, params, where);
        report.runs++;
        report.elements += r.values.reduce((n, v) => n + v.size, 0);
      };
      const trials = o.trials ?? 2;
      for (let t = 0; t <= trials; t++) {
        const label = `${rec.name}#${runs++}`;
        const r = prepare(t);
        const outs = await Promise.all(ps.map((p) => p.scope(label, (q) => rec.run(q, r.inputs[p.id]!, params))));
        verify(r, outs, `trial ${t}${t === 0 ? ' (edge values)' : ''}`);
        expectCost(measuredCost(ps, label), cost, `"${rec.name}" case ${c} ${describe(params)}, trial ${t}`);
      }
      // Two runs at once under sibling scopes: the same results, bytes added, the rounds of one.
      const label = `${rec.name}#${runs++}`;
      const pair = [prepare(trials + 1), prepare(trials + 2)] as const;
      const outs = await Promise.all(ps.map((p) => p.scope(label, (q) => Promise.all(pair.map((r, i) => q.scope(i ? 'b' : 'a', (u) => rec.run(u, r.inputs[p.id]!, params)))))))
        .catch((e: Error) => {
          throw new CheckError(`"${rec.name}" case ${c}, two concurrent runs: ${e.message}`);
        });
      pair.forEach((r, i) => verify(r, outs.map((o2) => o2[i]!), `concurrent run ${i ? 'b' : 'a'}`));
      expectCost(measuredCost(ps, label), parallel(cost, cost), `"${rec.name}" case ${c} ${describe(params)}, two concurrent runs`);
    }
  } finally {
    if (!o.parties) for (const p of ps) p.close();
  }
  return report;
}

function describe(params: unknown): string {
  const text = JSON.stringify(params, (_k, v) => (typeof v === 'bigint' ? `${v}n` : typeof v === 'object' && v && 'apply' in v && 'name' in v ? `<${v.name}>` : v));
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}

// --- What each party sees -------------------------------------------------------------------------

export interface ViewOptions<P> {
  /** Parameter cases (default: the record's examples). */
  params?: readonly P[];
  /** Runs per input set (default 6); payloads of all runs are pooled per message. */
  trials?: number;
  /** Parties to run on (default: fresh local parties, closed afterwards). */
  parties?: Trio;
  /**
   * Whether the messages with this tag (in this case) are uniform bytes (masked ring values, k-bit
   * values with 8 | k, bits): those must also pass a uniformity test. Default: every tag. Others (Z_p
   * digits, k-bit values in wider words) are only compared between the two inputs.
   */
  uniform?: (tag: string, params: P) => boolean;
  /** Seed of the test data (default: the record's name). */
  seed?: string;
  /**
   * Run the first input set with all shares zero (default true): see checkView. False for a protocol
   * whose messages are openings by design (reveal), where a zero share is what is opened.
   */
  zeroShares?: boolean;
}

export interface ViewReport {
  name: string;
  /** Distinct messages (party, sender, channel, tag, index) compared. */
  messages: number;
  /** Payload bytes compared, over both inputs. */
  bytes: number;
}

/** Chi-square critical value for a tail of about 1e-6 (Wilson-Hilferty), so a correct protocol almost never fails. */
function chiCritical(df: number): number {
  const z = 4.75, a = 2 / (9 * df);
  return df * (1 - a + z * Math.sqrt(a)) ** 3;
}

function histogram(chunks: readonly Uint8Array[]): { h: Float64Array; n: number } {
  const h = new Float64Array(256);
  let n = 0;
  for (const c of chunks) for (const b of c) (h[b]!++, n++);
  return { h, n };
}

/** Two-sample chi-square of two byte histograms (different totals), and its degrees of freedom. */
function twoSample(a: { h: Float64Array; n: number }, b: { h: Float64Array; n: number }): { stat: number; df: number } {
  const k1 = Math.sqrt(b.n / a.n), k2 = Math.sqrt(a.n / b.n);
  let stat = 0, bins = 0;
  for (let i = 0; i < 256; i++) {
    const s = a.h[i]! + b.h[i]!;
    if (s === 0) continue;
    bins++;
    stat += (k1 * a.h[i]! - k2 * b.h[i]!) ** 2 / s;
  }
  return { stat, df: Math.max(1, bins - 1) };
}

/** One-sample chi-square of a byte histogram against uniform bytes. */
function uniformity(a: { h: Float64Array; n: number }): number {
  const e = a.n / 256;
  let stat = 0;
  for (let i = 0; i < 256; i++) stat += (a.h[i]! - e) ** 2 / e;
  return stat;
}

/** Inputs that differ as much as the domain allows: every element at the domain's first edge value. */
function constantValues(slots: readonly Slot[]): RingTensor[] {
  return slots.map((s) => {
    const domain = s.domain ?? (s.as === 'bit' ? [[0n, 1n]] : RING);
    const v = domain.some(([lo, hi]) => lo <= 0n && 0n <= hi) ? 0n : domain[0]![0];
    return new RingTensor(new BigInt64Array(shapeSize(s.shape)).fill(v), s.shape);
  });
}

/** Test data that is all zeros: shares split as (0, x), bits as (u = b, helper part 0). */
const ZEROS = { ring: (shape: readonly number[]) => RingTensor.zeros(shape), bits: (n: number) => new Uint8Array(n) } as unknown as TestData;

/**
 * Checks what each party sees: runs the protocol on two different secret inputs and records every
 * message each party receives. The first input set is degenerate: every value at an edge of its domain
 * (0 where allowed) and every share zero (P0 holds 0, P1 holds x), so the only randomness left is the
 * protocol's own (the dealer's masks, the PRF streams); the second is uniform random values in uniform
 * random shares (inputs a party holds alone, such as the server's weights, vary too). For each message
 * (by receiver, sender, scope below the run, tag and order) it asserts that its size is the same for
 * both, that its bytes are distributed alike for both (two-sample chi-square), and, for uniform tags,
 * that its bytes are uniform. A message that is not masked by fresh randomness (a plaintext, a share
 * sent as is, an unmasked difference, a reused mask) is constant in the degenerate run and fails. The
 * statistics are set for a false-alarm rate of about 1e-6 per message.
 * @throws {CheckError} naming the protocol, the party, the message and the statistic
 */
export async function checkView<P>(rec: ProtocolSpec<P>, o: ViewOptions<P> = {}): Promise<ViewReport> {
  const cases = o.params ?? rec.examples;
  const ps = o.parties ?? ((await localParties()) as Trio);
  const data = new TestData(`${o.seed ?? rec.name}/view`);
  const uniform = o.uniform ?? (() => true);
  const report: ViewReport = { name: rec.name, messages: 0, bytes: 0 };
  try {
    for (const [c, params] of cases.entries()) {
      const slots = rec.inputs(params);
      // per input set: message key -> payloads over the runs
      const seen: Map<string, Uint8Array[]>[] = [new Map(), new Map()];
      const zero = o.zeroShares ?? true;
      for (const [set, values] of [constantValues(slots), null].entries()) {
        for (let t = 0; t < (o.trials ?? 6); t++) {
          const label = `view${runs++}`;
          const vals = values ?? valuesFor(slots, data, false);
          const inputs = distribute(slots, vals, set === 0 && zero ? ZEROS : data);
          const order = new Map<string, number>();
          const stops = ps.flatMap((p) => ps.filter((q) => q !== p).map((q) => p.link(q.id).link.observe((m) => {
            if (m.channel !== label && !m.channel.startsWith(`${label}/`)) return;
            const base = `P${p.id} <- ${m.peer} "${m.tag}" in ${m.channel.slice(label.length) || '/'}`;
            const k = order.get(base) ?? 0;
            order.set(base, k + 1);
            const key = `${base} #${k}`;
            const list = seen[set]!.get(key) ?? [];
            list.push(m.payload.slice());
            seen[set]!.set(key, list);
          })));
          try {
            await Promise.all(ps.map((p) => p.scope(label, (q) => rec.run(q, inputs[p.id]!, params))));
          } finally {
            for (const stop of stops) stop();
          }
        }
      }
      const where = (key: string) => `"${rec.name}" case ${c} ${describe(params)}: ${key}`;
      const keys = new Set([...seen[0]!.keys(), ...seen[1]!.keys()]);
      for (const key of keys) {
        const [a, b] = [seen[0]!.get(key), seen[1]!.get(key)];
        if (!a || !b || a.length !== b.length) throw new CheckError(`${where(key)}: received ${a?.length ?? 0} times for one input, ${b?.length ?? 0} for the other`);
        a.forEach((x, i) => {
          if (x.length !== b[i]!.length) throw new CheckError(`${where(key)}: ${x.length} bytes for one input, ${b[i]!.length} for the other`);
        });
        const ha = histogram(a), hb = histogram(b);
        report.messages++;
        report.bytes += ha.n + hb.n;
        // Too few bytes for a statistic: sizes only.
        if (ha.n < 512) continue;
        const t2 = twoSample(ha, hb);
        if (t2.stat > chiCritical(t2.df)) throw new CheckError(`${where(key)}: its bytes are distributed differently for the two inputs (chi-square ${t2.stat.toFixed(0)} on ${t2.df} degrees of freedom, limit ${chiCritical(t2.df).toFixed(0)}): it depends on the secret input`);
        const tag = key.replace(/^.*? "([^"]*)".*$/, '$1');
        if (uniform(tag, params)) {
          for (const h of [ha, hb]) {
            const u = uniformity(h);
            if (u > chiCritical(255)) throw new CheckError(`${where(key)}: its bytes are not uniform (chi-square ${u.toFixed(0)} on 255 degrees of freedom, limit ${chiCritical(255).toFixed(0)}): not masked by uniform randomness`);
          }
        }
      }
    }
  } finally {
    if (!o.parties) for (const p of ps) p.close();
  }
  return report;
}

