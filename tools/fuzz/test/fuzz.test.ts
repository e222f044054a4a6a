// The fuzzer in CI: a small count per target (the full run is `pnpm fuzz`, 100,000 per target).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import seedrandom from 'seedrandom';
import { fuzz, mutateBytes, mutateJson, TARGETS } from '../targets.ts';
import { fuzzListener } from '../listener.ts';

const seed = String(Date.now());

for (const t of TARGETS) {
  test(`${t.name}: 1,500 random and mutated inputs give only typed errors`, () => {
    const r = fuzz(t, 1500, seed);
    assert.is(r.inputs, 1500);
    assert.is(r.failures, 0, `seed ${seed}: ${JSON.stringify(r.examples, null, 1)}`);
    assert.ok(r.typedErrors > 100, `the mutations reach the checks (${r.typedErrors} typed errors)`);
    assert.ok(r.slowestMs < 1000, `slowest input ${r.slowestMs} ms`);
  });
}

test('the mutators change their input and a failure would be caught', () => {
  const r = seedrandom('m');
  const b = Uint8Array.from({ length: 64 }, (_, i) => i);
  let changed = 0;
  for (let i = 0; i < 100; i++) if (Buffer.compare(Buffer.from(mutateBytes(b, r)), Buffer.from(b)) !== 0) changed++;
  assert.ok(changed > 90);
  assert.is.not(mutateJson('{"a":[1,2,3],"b":{"c":4}}', r), '{"a":[1,2,3],"b":{"c":4}}');
  const broken = { ...TARGETS[0]!, run: () => { throw new TypeError('boom'); } };
  const res = fuzz({ ...broken, seeds: () => [new Uint8Array(0)], run: (x: Uint8Array) => { if (x.length) throw new TypeError('boom'); } }, 50, 's');
  assert.ok(res.failures > 0 && /TypeError: boom/.test(res.examples[0]!.error));
});

test('listener: 200 connections of random bytes and valid-looking frames are refused and logged; it keeps accepting', async () => {
  for (const r of await fuzzListener(200, seed)) {
    assert.is(r.inputs, 200);
    assert.is(r.failures, 0, `${r.target}, seed ${seed}: ${r.examples.join('; ')}`);
    assert.ok(r.refusedLogged >= 150, `${r.target}: ${r.refusedLogged} refusals logged`);
  }
});

test.run();
