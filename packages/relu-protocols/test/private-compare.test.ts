import { test } from 'uvu';
import * as assert from 'uvu/assert';
import seedrandom from 'seedrandom';
import { pcPrime, subZp, unpackZp } from '@si/ring';
import { measuredCost } from '@si/sharing';
import { closeAll, expectCost, scoped, TestData, TRANSPORTS, type Trio } from '@si/sharing/testing';
import { privateCompare, privateCompareCost } from '../src/index.ts';

/** Bits of n random m-bit values with the interesting cases mixed in. */
function cases(seed: string, n: number, m: number): { x: Uint8Array; r: Uint8Array; beta: Uint8Array } {
  const rnd = seedrandom(seed);
  const x = new Uint8Array(n * m), r = new Uint8Array(n * m), beta = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const kind = i % 8;
    for (let b = 0; b < m; b++) {
      const xb = rnd() < 0.5 ? 1 : 0;
      x[i * m + b] = kind === 4 ? 1 : xb;
      r[i * m + b] = kind === 0 || kind === 1 ? 1 : kind === 2 ? 0 : kind === 3 ? xb : rnd() < 0.5 ? 1 : 0; // all ones, zero, equal
    }
    if (kind === 5 && m > 1) r[i * m + m - 1] = 1 - x[i * m + m - 1]!; // differ only in the last bit
    beta[i] = kind === 0 ? 1 : kind === 1 ? 0 : rnd() < 0.5 ? 1 : 0;
  }
  return { x, r, beta };
}

test('PrivateCompare over Z_pcPrime(m) equals beta XOR (x > r) in every branch (r all ones, zero, equal, last bit) and width; ledger == declared', async () => {
  const ps = (await TRANSPORTS[0]![1]()) as Trio;
  try {
    for (const m of [1, 2, 8, 15, 31, 63, 64]) {
      const n = 200;
      const { x, r, beta } = cases(`pc${m}`, n, m);
      const data = new TestData(`shares${m}`);
      const p = pcPrime(m);
      const x0 = data.inDomain([n * m], [[0n, BigInt(p - 1)]]);
      const d0 = Uint8Array.from(x0.data, Number), d1 = subZp(x, d0, p);
      const label = `pc${m}`;
      const out = await scoped(ps, label, (p) => privateCompare(p, n, m, p.id === 2 ? undefined : { x: p.id === 0 ? d0 : d1, r, beta }));
      assert.is(out[0], null);
      const want = beta.map((b, i) => b ^ (greater(x.subarray(i * m, i * m + m), r.subarray(i * m, i * m + m)) ? 1 : 0));
      assert.equal([...out[2]!], [...want], `m=${m}`);
      expectCost(measuredCost(ps, label), privateCompareCost(n, m), `cost m=${m}`);
    }
  } finally {
    closeAll(ps);
  }
});

/** x > r on MSB-first bit rows. */
function greater(x: Uint8Array, r: Uint8Array): boolean {
  for (let b = 0; b < x.length; b++) if (x[b] !== r[b]) return x[b]! > r[b]!;
  return false;
}

test('what the helper receives: each vector alone is uniform, and the zero moves between positions', async () => {
  const ps = await TRANSPORTS[0]![1]();
  try {
    // The same comparison for every element (x = 10000000b > r = 0, decided at the top bit).
    const n = 2000, m = 8, p = pcPrime(m);
    const x = new Uint8Array(n * m), r = new Uint8Array(n * m), beta = new Uint8Array(n);
    for (let i = 0; i < n; i++) x[i * m] = 1;
    const x0 = new Uint8Array(n * m), x1 = x.slice(); // P0's shares all zero: the worst case for P0's vector
    const seen: Uint8Array[] = [];
    for (const party of [ps[0], ps[1]]) {
      const link = party.link(2).link;
      const send = link.send.bind(link);
      link.send = (tag, payload, scope) => (seen.push(unpackZp(payload as Uint8Array, n * m, p)), send(tag, payload, scope));
    }
    const out = await scoped(ps as Trio, 'pcsec', (p) => privateCompare(p, n, m, p.id === 2 ? undefined : { x: p.id === 0 ? x0 : x1, r, beta }));
    assert.ok(out[2]!.every((b) => b === 1));
    const [d0, d1] = seen as [Uint8Array, Uint8Array];
    // Alone, P0's digits are uniform on Z_p (the additive mask; p = 11 for m = 8), zeros included.
    assert.is(p, 11);
    const counts = new Array(p).fill(0);
    for (const v of d0) counts[v]++;
    const expect = (n * m) / p;
    assert.ok(counts.every((c) => c > expect * 0.5 && c < expect * 1.5), `P0 digit counts ${Math.min(...counts)}..${Math.max(...counts)}`);
    // Together they have exactly one zero per element, at a position that is uniform over 0..m-1.
    const where = new Array(m).fill(0);
    for (let i = 0; i < n; i++) {
      let zeros = 0;
      for (let b = 0; b < m; b++) if ((d0[i * m + b]! + d1[i * m + b]!) % p === 0) (zeros++, where[b]++);
      assert.is(zeros, 1);
    }
    assert.ok(where.every((c) => c > (n / m) * 0.6 && c < (n / m) * 1.4), `zero positions ${where.join(',')}`);
  } finally {
    closeAll(ps);
  }
});

test.run();
