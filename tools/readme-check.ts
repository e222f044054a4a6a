// Shared by every package's test/readme.test.ts (and the guides in docs/): a markdown file's ts code blocks
// run as written, in order (block i can import an earlier block as './block<j>.mts'), and each
// `console.log(...); // expected` line prints exactly what its comment says (docs that work when pasted).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * @param packageRoot - the package the blocks run inside (its dependencies resolve as a user's would)
 * @param file - the markdown file, relative to the package (default its README.md)
 */
export function readmeTest(packageRoot: URL, file = 'README.md'): void {
  const root = fileURLToPath(packageRoot);
  test(`every ts block of ${file} runs and prints what its comments say`, async () => {
    const md = readFileSync(join(root, file), 'utf8');
    const blocks = [...md.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
    assert.ok(blocks.length > 0, `${file} has ts examples`);
    // Inside the package, so its own name and its dependencies resolve as a user's code would.
    const dir = mkdtempSync(join(root, '.readme-'));
    const logs: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => void logs.push(a.map(String).join(' '));
    try {
      for (const [i, code] of blocks.entries()) {
        const file = join(dir, `block${i}.mts`);
        writeFileSync(file, code);
        await import(file);
        const want = [...code.matchAll(/console\.log\(.*\); \/\/ (.*)$/gm)].map((m) => m[1]!);
        assert.equal(logs.splice(0), want, `${file} block ${i}`);
      }
    } finally {
      console.log = log;
      rmSync(dir, { recursive: true, force: true });
    }
  });
  test.run();
}
