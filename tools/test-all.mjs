#!/usr/bin/env node
// Type-checks every package and runs its tests through nx (which builds what they depend on first), then
// lints the workspace (pnpm lint: knip and publint), runs every pnpm command the docs show
// (tools/docs-commands.mjs; SI_DOCS_COMMANDS=0 leaves them out), streams the output, and ends with one
// line summing uvu's totals, the lint checks and the docs commands: "N passed, N failed". A package whose
// test task fails without reporting a failed test (a crash) counts as one failure.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** pnpm lint after the builds (publint checks the built files the exports point at). */
function lint() {
  const r = spawnSync('node', ['tools/lint.mjs'], { encoding: 'utf8' });
  process.stdout.write(r.stdout ?? '');
  process.stderr.write(r.stderr ?? '');
  const m = /lint: (\d+) passed, (\d+) failed/.exec(r.stdout ?? '');
  return m ? { passed: Number(m[1]), failed: Number(m[2]) } : { passed: 0, failed: 1 };
}

/** Every pnpm command shown in the docs, run as shown (or its quick variant). */
function docsCommands() {
  if (process.env.SI_DOCS_COMMANDS === '0') {
    console.log('docs commands: left out (SI_DOCS_COMMANDS=0)');
    return { passed: 0, failed: 0 };
  }
  // Streamed as it goes (the commands take minutes); the counts come back through a file.
  const summary = join(mkdtempSync(join(tmpdir(), 'si-docs-')), 'summary.json');
  spawnSync('node', ['tools/docs-commands.mjs'], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, SI_DOCS_SUMMARY: summary } });
  return existsSync(summary) ? JSON.parse(readFileSync(summary, 'utf8')) : { passed: 0, failed: 1 };
}

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
  const l = lint();
  const d = docsCommands();
  passed += l.passed + d.passed;
  failed += l.failed + d.failed;
  console.log(`\n${passed} passed, ${failed} failed`);
  process.exit(code === 0 && failed === 0 ? 0 : 1);
});
