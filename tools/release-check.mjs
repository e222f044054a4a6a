#!/usr/bin/env node
// Release readiness, from a clean copy of the repository:
//  1. builds and packs every package under packages/ (pnpm pack), and lists what each tarball holds;
//  2. installs the tarballs into an empty project with npm (as a user would), imports every package from
//     its built JavaScript, type-checks a consumer file against the shipped .d.ts, and runs `si --help`;
//  3. runs `changeset version` and checks that it bumps versions and writes changelogs.
// Prints a JSON line per step and exits non-zero on the first failure.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'si-release-'));
const run = (cmd, args, cwd, env = {}) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
const say = (o) => console.log(JSON.stringify(o));

// A clean copy (committed files only), so the check sees what a release would.
const repo = join(work, 'repo');
run('git', ['clone', '-q', root, repo], work);
run('pnpm', ['install', '--frozen-lockfile'], repo);
run('pnpm', ['build'], repo, { NX_DAEMON: 'false', NX_TUI: 'false', NX_NO_CLOUD: 'true' });

const packs = join(work, 'packs');
const pkgs = readdirSync(join(repo, 'packages')).map((d) => JSON.parse(readFileSync(join(repo, 'packages', d, 'package.json'), 'utf8')).name ? d : null).filter(Boolean);
for (const d of pkgs) {
  run('pnpm', ['pack', '--pack-destination', packs], join(repo, 'packages', d));
}
const tarballs = readdirSync(packs).filter((f) => f.endsWith('.tgz'));
for (const t of tarballs) {
  const files = run('tar', ['-tzf', join(packs, t)], work).trim().split('\n');
  const dts = files.filter((f) => f.endsWith('.d.ts')).length, js = files.filter((f) => f.endsWith('.js')).length;
  say({ step: 'pack', tarball: t, files: files.length, js, dts, wasm: files.filter((f) => f.endsWith('.wasm')).length });
  if (!js || !dts) throw new Error(`${t} has no built JavaScript or types`);
}
if (tarballs.length !== pkgs.length) throw new Error(`${tarballs.length} tarballs for ${pkgs.length} packages`);

// A consumer project.
const app = join(work, 'app');
run('mkdir', ['-p', app], work);
writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
run('npm', ['install', '--no-audit', '--no-fund', ...tarballs.map((t) => join(packs, t)), 'typescript@5.9.3', '@types/node@20'], app);
const names = tarballs.map((t) => JSON.parse(run('tar', ['-xzOf', join(packs, t), 'package/package.json'], work)).name);
writeFileSync(join(app, 'imports.mjs'), names.map((n, i) => `import * as m${i} from '${n}';`).join('\n') + `\nconsole.log(JSON.stringify({ ${names.map((n, i) => `'${n}': Object.keys(m${i}).length`).join(', ')} }));\n`);
say({ step: 'import', exports: JSON.parse(run('node', ['imports.mjs'], app)) });
writeFileSync(join(app, 'consumer.ts'), `import { RingTensor } from '@si/ring';
import { solve } from '@si/knapsack';
import { candidatePatchSizes } from '@si/patch-relu';
import { fmnistResNet } from '@si/models';
import { parseMode } from '@si/cli';
const t: RingTensor = RingTensor.zeros([2]);
const s = solve({ budget: 1, groups: [{ costs: [0, 1], values: [1, 0] }] });
const n: number = candidatePatchSizes(4, 4).length + fmnistResNet().reluLayers().length + s.choice.length + t.size;
console.log(n, parseMode('small16').mode);
`);
writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] }, files: ['consumer.ts'] }));
run('npx', ['tsc', '-p', '.'], app);
say({ step: 'types', consumer: 'consumer.ts type-checks against the shipped declarations' });
const help = run('npx', ['si', '--help'], app);
if (!/infer/.test(help) || !/party/.test(help)) throw new Error('si --help does not list its commands');
say({ step: 'bin', si: help.split('\n').filter((l) => /^\s+\w/.test(l)).length + ' commands listed' });

// Versioning with changesets.
const before = Object.fromEntries(pkgs.map((d) => [d, JSON.parse(readFileSync(join(repo, 'packages', d, 'package.json'), 'utf8')).version]));
run('pnpm', ['changeset', 'version'], repo);
const bumped = pkgs.filter((d) => JSON.parse(readFileSync(join(repo, 'packages', d, 'package.json'), 'utf8')).version !== before[d]);
const logs = pkgs.filter((d) => existsSync(join(repo, 'packages', d, 'CHANGELOG.md')));
say({ step: 'changeset version', bumped: bumped.map((d) => `${d} ${before[d]} -> ${JSON.parse(readFileSync(join(repo, 'packages', d, 'package.json'), 'utf8')).version}`), changelogs: logs.length });
if (!bumped.length || logs.length < bumped.length) throw new Error('changeset version bumped nothing or wrote no changelogs');
say({ release_check: 'ok', packages: pkgs.length, dir: work });
