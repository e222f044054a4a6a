#!/usr/bin/env node
// Builds the given projects (and what they depend on) through nx, quietly: output only on failure.
// Used by root scripts that run sources directly (benchmarks, demo) but need built artifacts (.wasm).
import { spawnSync } from 'node:child_process';

const projects = process.argv.slice(2);
const env = { ...process.env, NX_DAEMON: 'false', NX_TUI: 'false', NX_NO_CLOUD: 'true' };
const r = spawnSync('pnpm', ['exec', 'nx', 'run-many', '-t', 'build', '--outputStyle=static', ...(projects.length ? ['-p', projects.join(',')] : [])], { env, encoding: 'utf8' });
if (r.status !== 0) {
  process.stderr.write(r.stdout + r.stderr);
  console.error(`build failed (nx exit code ${r.status})`);
  process.exit(1);
}
