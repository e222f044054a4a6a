import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const run = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], { encoding: 'utf8' });

test('si-knapsack solves an instance file and writes the solution; bad input gives a clear error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'knap-'));
  const inst = join(dir, 'in.json'), out = join(dir, 'sol.json');
  writeFileSync(inst, JSON.stringify({ format: 'si-mckp', version: 1, budget: 3, groups: [{ costs: [0, 2], values: [5, 1] }, { costs: [0, 1], values: [4, 0] }] }));
  for (const method of ['fast', 'dp']) {
    const r = run(['--instance', inst, '--out', out, '--method', method]);
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^${method}: value 1 cost 3 `));
    const sol = JSON.parse(readFileSync(out, 'utf8'));
    assert.equal(sol.choice, [1, 1]);
    assert.is(sol.gap, 0);
  }
  writeFileSync(inst, JSON.stringify({ format: 'si-mckp', version: 1, budget: 1, groups: [{ costs: [2], values: [1] }] }));
  const bad = run(['--instance', inst, '--out', out]);
  assert.is(bad.status, 1);
  assert.match(bad.stderr, /budget 1 is below the cheapest selection: one option per group needs at least 2/);
  assert.is(run(['--out', out]).status, 2);
  assert.match(run(['--instance', join(dir, 'missing.json'), '--out', out]).stderr, /cannot read .*missing.json/);
  assert.match(execFileSync(process.execPath, ['--import', 'tsx', cli, '--help'], { encoding: 'utf8' }), /usage: si-knapsack/);
});

test.run();
