#!/usr/bin/env node
// Docs that work when pasted: every `pnpm ...` command shown in a README, SECURITY.md or docs/ page (in a
// shell block, joined over `\` continuations and split at `&&`, or in inline code) runs from the repository
// root with the flags it shows. A long command runs as its quick variant (the rules below, printed beside
// it); a command that cannot run here says why. Ends with "docs: N passed, N failed" (pnpm test counts it).
//   node tools/docs-commands.mjs [--list]
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

/** Markdown files a user reads. */
function docFiles() {
  const files = ['README.md', 'SECURITY.md'];
  for (const d of readdirSync(join(root, 'docs'))) if (d.endsWith('.md')) files.push(join('docs', d));
  for (const p of readdirSync(join(root, 'packages'))) if (existsSync(join(root, 'packages', p, 'README.md'))) files.push(join('packages', p, 'README.md'));
  return files;
}

/** The pnpm commands of a markdown text: shell-block lines and inline code spans. */
function commandsOf(md) {
  const out = [];
  for (const m of md.matchAll(/```(?:sh|bash|shell)\n([\s\S]*?)```/g)) {
    const joined = m[1].replace(/\\\n\s*/g, ' ');
    for (const line of joined.split('\n')) {
      for (const part of line.replace(/\s+#.*$/, '').split('&&')) if (/^pnpm /.test(part.trim())) out.push(part.trim());
    }
  }
  for (const m of md.replace(/```[\s\S]*?```/g, '').matchAll(/`(pnpm [^`]+)`/g)) out.push(m[1].trim());
  return out.map((c) => c.replace(/\s+/g, ' '));
}

/** Commands not run, and why. */
const SKIP = [
  [/^pnpm (install|i)\b/, 'install: the first step of the CI run itself'],
  [/^pnpm test$/, 'this run'],
  [/^pnpm lint$/, 'runs inside pnpm test (counted there)'],
  [/^pnpm changeset$/, 'interactive: asks which packages changed'],
  [/^pnpm changeset:version$/, 'bumps versions in the working tree (release:check runs it in a copy)'],
  [/[<…]|\.\.\./, 'a placeholder, not a command'],
  [/^pnpm si$/, 'a placeholder, not a command'],
  // Services run until stopped, and the certificates would land in the checkout: the README's "Serve a
  // model" commands run in packages/cli/test/serve.test.ts with the same flags (temporary certificates,
  // free ports), and the browser ones in packages/web/test/browser.test.ts.
  [/^pnpm si (certs|serve|client)\b/, 'run by packages/cli/test/serve.test.ts (and web/test/browser.test.ts) with the same flags'],
  // The README's --baseline run is this bench and more (it also runs the other commit's step): one is enough.
  [/^pnpm bench:models( \[?-- --quick\]?)?$/, 'the README\'s `pnpm bench:models -- --quick --baseline f3e0993` runs the same bench and more'],
];

/** Quick variants of long commands (the same script and flags, less work). */
const QUICK = [
  // Even the quick segmentation run takes minutes per network; CI runs its declared-cost part.
  [/^pnpm bench:seg( \[?-- --quick\]?)?$/, () => 'pnpm bench:seg -- --declared', 'the declared costs only (the measured runs take minutes each)'],
  [/^pnpm bench:e2e -- (?:--paperlike-only )?--profile (\w+)$/, (_, p) => `pnpm bench:e2e -- --quick --profile ${p}`, 'the quick run: ResNet18-CIFAR 6% on loopback and over the shaped links'],
  [/^pnpm bench:(\w+)( -- --quick)?$/, (_, b) => `pnpm bench:${b} -- --quick`, 'the quick run'],
  [/^pnpm bench:(\w+) \[-- --quick\]$/, (_, b) => `pnpm bench:${b} -- --quick`, 'the quick run'],
  [/^pnpm soak$/, () => 'pnpm soak -- --quick', '100 inferences instead of 1,000'],
  [/^pnpm load$/, () => 'pnpm load -- --quick', '24 client sessions instead of 200'],
  [/^pnpm fuzz -- --count (\d+)$/, (c, n) => (Number(n) > 2000 ? 'pnpm fuzz -- --count 2000' : c), '2,000 inputs per target'],
  [/^pnpm fuzz$/, () => 'pnpm fuzz -- --count 2000', '2,000 inputs per target'],
];

function plan() {
  const seen = new Map();
  for (const f of docFiles()) {
    for (const shown of commandsOf(readFileSync(join(root, f), 'utf8'))) {
      if (seen.has(shown)) continue;
      const skip = SKIP.find(([re]) => re.test(shown));
      if (skip) { seen.set(shown, { file: f, shown, skip: skip[1] }); continue; }
      const q = QUICK.find(([re]) => re.test(shown));
      const run = q ? shown.replace(q[0], q[1]) : shown;
      seen.set(shown, { file: f, shown, run, ...(run !== shown ? { why: q[2] } : {}) });
    }
  }
  // The same command reached through two spellings runs once.
  const runs = new Set();
  return [...seen.values()].filter((c) => !c.run || (!runs.has(c.run) && runs.add(c.run)));
}

const commands = plan();
if (process.argv.includes('--list')) {
  for (const c of commands) console.log(`${c.file}: ${c.shown}${c.skip ? `  (skipped: ${c.skip})` : c.why ? `  -> ${c.run} (${c.why})` : ''}`);
  process.exit(0);
}

let passed = 0, failed = 0;
for (const c of commands) {
  if (c.skip) {
    console.log(`docs: skip ${c.shown} (${c.file}): ${c.skip}`);
    continue;
  }
  const t0 = Date.now();
  const r = spawnSync('bash', ['-c', c.run], { cwd: root, encoding: 'utf8', timeout: 15 * 60_000, maxBuffer: 256 << 20, env: { ...process.env, CI: '1' } });
  const s = ((Date.now() - t0) / 1000).toFixed(1);
  const label = `${c.run}${c.why ? ` (shown as "${c.shown}": ${c.why})` : ''} from ${c.file}`;
  if (r.status === 0) {
    passed++;
    console.log(`docs: ok ${label} in ${s} s`);
  } else {
    failed++;
    const tail = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n');
    console.log(`docs: FAILED ${label} (${r.error ? r.error.message : `exit ${r.status}`}, ${s} s):\n${tail}`);
  }
}
console.log(`docs: ${passed} passed, ${failed} failed`);
if (process.env.SI_DOCS_SUMMARY) writeFileSync(process.env.SI_DOCS_SUMMARY, JSON.stringify({ passed, failed }));
process.exit(failed ? 1 : 0);
