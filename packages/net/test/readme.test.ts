// The README's code blocks run as written (docs that work when pasted).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

test('every ts block of README.md runs and prints what its comments say', async () => {
  const md = readFileSync(join(root, 'README.md'), 'utf8');
  const blocks = [...md.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
  assert.ok(blocks.length > 0);
  const dir = mkdtempSync(join(root, '.readme-'));
  const logs: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void logs.push(a.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(' '));
  try {
    for (const [i, code] of blocks.entries()) {
      const file = join(dir, `block${i}.ts`);
      writeFileSync(file, code);
      await import(file);
      const want = [...code.matchAll(/console\.log\(.*\); \/\/ (.*)$/gm)].map((m) => m[1]!);
      assert.equal(logs.splice(0), want, `README block ${i}`);
    }
  } finally {
    console.log = log;
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
