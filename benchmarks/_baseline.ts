// A checkout of another commit to measure against in the same run (--baseline REF): a detached git
// worktree in a temporary directory, installed from the local pnpm store (no network) and with @si/ring's
// WebAssembly built. Removed again by dispose().
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface Baseline {
  ref: string;
  commit: string;
  /** The worktree's benchmarks/ directory, where a copied script resolves @si/* to that commit's sources. */
  benchDir: string;
  /** Copies one of this tree's benchmark files into the baseline's benchmarks/ and returns its path there. */
  copy(file: string): string;
  dispose(): void;
}

export function checkout(ref: string): Baseline {
  const run = (cmd: string, args: string[], cwd = ROOT) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  let commit: string;
  try {
    commit = run('git', ['rev-parse', '--verify', `${ref}^{commit}`]);
  } catch {
    throw new Error(`--baseline ${ref}: not a commit of this repository`);
  }
  const dir = join(mkdtempSync(join(tmpdir(), 'si-baseline-')), 'tree');
  console.error(`baseline: ${ref} (${commit.slice(0, 10)}) in ${dir}: install and build`);
  run('git', ['worktree', 'add', '--detach', dir, commit]);
  const dispose = () => {
    try {
      run('git', ['worktree', 'remove', '--force', dir]);
    } catch { /* already gone */ }
  };
  try {
    run('pnpm', ['install', '--offline', '--frozen-lockfile', '--ignore-scripts'], dir);
    run('node', ['tools/build.mjs', '@si/ring'], dir);
  } catch (e) {
    dispose();
    throw new Error(`--baseline ${ref}: installing the worktree failed: ${(e as { stderr?: string }).stderr ?? e}`);
  }
  const benchDir = join(dir, 'benchmarks');
  return {
    ref, commit, benchDir, dispose,
    copy(file) {
      const to = join(benchDir, file);
      copyFileSync(join(ROOT, 'benchmarks', file), to);
      return to;
    },
  };
}

/** Runs a benchmark script with tsx in `cwd` (this tree's benchmarks/ or a baseline's) and parses its last JSON line. */
export function runScript(cwd: string, file: string, args: string[]): Record<string, number> {
  const out = execFileSync('npx', ['tsx', '--conditions=@si/source', file, ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const last = out.trim().split('\n').at(-1)!;
  return JSON.parse(last) as Record<string, number>;
}
