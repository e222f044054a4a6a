import { test } from 'uvu';
import * as assert from 'uvu/assert';
import seedrandom from 'seedrandom';
import { measuredCost } from '@si/sharing';
import { closeAll, expectCost, scoped, TRANSPORTS, type Trio } from '@si/sharing/testing';
import { carryCompare, carryCompareCost, carryPrime } from '../src/index.ts';

/** The test's own reading of a packed message: `bits`-bit little-endian fields. */
function fields(bytes: Uint8Array, n: number, bits: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let v = 0;
    for (let b = 0; b < bits; b++) {
      const at = i * bits + b;
      v += ((bytes[at >> 3]! >> (at & 7)) & 1) * 2 ** b;
    }
    out.push(v);
  }
  return out;
}

test('carry comparison: beta XOR [a + b >= 2^m] for every a, b, beta at m = 1..4, and on edges and random values up to m = 30; ledger == declared', async () => {
  const ps = (await TRANSPORTS[0]![1]()) as Trio;
  try {
    for (const m of [1, 2, 3, 4, 8, 15, 19, 30]) {
      const M = 2 ** m, a: number[] = [], b: number[] = [], beta: number[] = [];
      if (m <= 4) {
        for (let x = 0; x < M; x++) for (let y = 0; y < M; y++) for (const t of [0, 1]) (a.push(x), b.push(y), beta.push(t));
      } else {
        const rnd = seedrandom(`carry${m}`);
        const edges = [0, 1, M - 1, M - 2, M / 2, M / 2 - 1];
        for (const x of edges) for (const y of edges) for (const t of [0, 1]) (a.push(x), b.push(y), beta.push(t));
        for (let i = 0; i < 300; i++) {
          const x = Math.floor(rnd() * M);
          // y at the carry's edge (a + b = 2^m - 1 or 2^m) for a third of them
          const y = i % 3 === 0 ? M - 1 - x : i % 3 === 1 ? (M - x) % M : Math.floor(rnd() * M);
          a.push(x), b.push(y), beta.push(rnd() < 0.5 ? 1 : 0);
        }
      }
      const n = a.length, label = `carry${m}`;
      const bits = Uint8Array.from(beta);
      const out = await scoped(ps, label, (p) => carryCompare(p, n, m, p.id === 2 ? undefined : { v: Uint32Array.from(p.id === 0 ? a : b), beta: bits }));
      assert.is(out[0], null);
      const want = a.map((x, i) => beta[i]! ^ (x + b[i]! >= M ? 1 : 0));
      assert.equal([...out[2]!], want, `m=${m}`);
      expectCost(measuredCost(ps, label), carryCompareCost(n, m), `cost m=${m}`);
    }
  } finally {
    closeAll(ps);
  }
});

test('carry comparison: what the helper receives: each vector alone is uniform on Z_p, and the one zero sits at a uniform position', async () => {
  const ps = await TRANSPORTS[0]![1]();
  try {
    // The same comparison for every element: a = 2^m - 1, b = 1 (a carry), beta = 0.
    const n = 2000, m = 15, p = carryPrime(m), E = m + 1, bits = Math.ceil(Math.log2(p));
    assert.ok(p > 3 * 2 ** m + 2 && p < 2 ** (m + 2), `p = ${p}`);
    const a = new Uint32Array(n).fill(2 ** m - 1), b = new Uint32Array(n).fill(1), beta = new Uint8Array(n);
    const seen: number[][] = [];
    for (const party of [ps[0], ps[1]]) {
      const link = party.link(2).link;
      const send = link.send.bind(link);
      link.send = (tag, payload, scope) => (seen.push(fields(payload as Uint8Array, n * E, bits)), send(tag, payload, scope));
    }
    const out = await scoped(ps as Trio, 'carrysec', (q) => carryCompare(q, n, m, q.id === 2 ? undefined : { v: q.id === 0 ? a : b, beta }));
    assert.ok(out[2]!.every((x) => x === 1));
    const [d0, d1] = seen as [number[], number[]];
    for (const d of [d0, d1]) {
      const bins = new Array(16).fill(0);
      for (const v of d) (assert.ok(v < p), bins[Math.floor((v * 16) / p)]++);
      const expect = (n * E) / 16;
      assert.ok(bins.every((c) => c > expect * 0.8 && c < expect * 1.2), `digit bins ${Math.min(...bins)}..${Math.max(...bins)}`);
    }
    const where = new Array(E).fill(0);
    for (let i = 0; i < n; i++) {
      let zeros = 0;
      for (let j = 0; j < E; j++) if ((d0[i * E + j]! + d1[i * E + j]!) % p === 0) (zeros++, where[j]++);
      assert.is(zeros, 1);
    }
    assert.ok(where.every((c) => c > (n / E) * 0.6 && c < (n / E) * 1.4), `zero positions ${where.join(',')}`);
  } finally {
    closeAll(ps);
  }
});

test.run();
