#!/usr/bin/env node
// pnpm lint: knip (unused files, exports and dependencies across the workspace) and publint --strict
// (each package's package.json as npm would publish it). Prints each check and ends with
// "N passed, N failed" over the checks; exits non-zero when one fails.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
};

const checks = [['knip', () => run('pnpm', ['exec', 'knip', '--no-progress'])]];
for (const dir of readdirSync('packages').sort()) checks.push([`publint packages/${dir}`, () => run('pnpm', ['exec', 'publint', '--strict', `packages/${dir}`])]);

let passed = 0, failed = 0;
for (const [name, check] of checks) {
  const { ok, out } = check();
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}`);
  if (!ok) console.log(out.replace(/^/gm, '     '));
}
console.log(`lint: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
