#!/usr/bin/env node
// Lints the workspace (pnpm lint: knip and publint), type-checks every package and runs its tests through nx
// (which builds what they depend on first), streams the output, and ends with one line summing the lint
// checks and uvu's totals over all packages: "N passed, N failed". A package whose test task fails without
// reporting a failed test (a crash) counts as one failure.
import { spawn, spawnSync } from 'node:child_process';

const lint = spawnSync('node', ['tools/lint.mjs'], { encoding: 'utf8' });
process.stdout.write(lint.stdout ?? '');
process.stderr.write(lint.stderr ?? '');
const lintTotals = /lint: (\d+) passed, (\d+) failed/.exec(lint.stdout ?? '');
const lintPassed = lintTotals ? Number(lintTotals[1]) : 0, lintFailed = lintTotals ? Number(lintTotals[2]) : 1;

const args = ['exec', 'nx', 'run-many', '-t', 'typecheck', 'test', '--outputStyle=static', ...process.argv.slice(2)];
const env = { ...process.env, NX_DAEMON: 'false', NX_TUI: 'false', NX_NO_CLOUD: 'true' };
const child = spawn('pnpm', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });

let text = '';
child.stdout.on('data', (d) => { process.stdout.write(d); text += d; });
child.stderr.on('data', (d) => { process.stderr.write(d); text += d; });

child.on('close', (code) => {
  const plain = text.replace(/\x1b\[[0-9;]*m/g, '');
  let total = 0, passed = 0, skipped = 0, blocks = 0;
  for (const m of plain.matchAll(/Total:\s+(\d+)\s+Passed:\s+(\d+)\s+Skipped:\s+(\d+)/g)) {
    total += Number(m[1]); passed += Number(m[2]); skipped += Number(m[3]); blocks++;
  }
  let failed = total - passed - skipped;
  if (code !== 0 && failed === 0) {
    failed = 1;
    console.log(`\nnx exited with code ${code} without a failing test reported (a crash or a build error above).`);
  }
  if (blocks === 0 && code === 0) console.log('\nwarning: no test totals found in the output');
  passed += lintPassed;
  failed += lintFailed;
  console.log(`\n${passed} passed, ${failed} failed`);
  process.exit(code === 0 && failed === 0 ? 0 : 1);
});
