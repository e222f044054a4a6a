// Compiles the AssemblyScript kernels in asm/ into dist/kernels.wasm (SIMD + shared memory, so
// worker threads can run the same kernels on the same buffers). Built from source, never downloaded.
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const asc = join(dirname(require.resolve('assemblyscript/package.json')), 'bin', 'asc.js');
// kernels.wasm runs everywhere WebAssembly SIMD does; kernels-relaxed.wasm is the same source built with
// relaxed SIMD (the float GEMM's multiply-adds fused), loaded where the engine supports it (_wasm-load.ts).
for (const [name, extra] of [['kernels.wasm', []], ['kernels-relaxed.wasm', ['--enable', 'relaxed-simd']]]) {
  const out = join(root, 'dist', name);
  mkdirSync(dirname(out), { recursive: true });
  execFileSync(process.execPath, [
    asc, join(root, 'asm', 'index.ts'),
    '-O3', '--runtime', 'stub', '--noAssert',
    '--enable', 'simd', '--enable', 'threads', ...extra,
    '--importMemory', '--sharedMemory', '--initialMemory', '32', '--maximumMemory', '65536',
    '-o', out,
  ], { stdio: 'inherit', cwd: root });
  console.log(`built ${out} (${statSync(out).size} bytes)`);
}
