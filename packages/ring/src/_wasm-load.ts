/**
 * Loads the kernels from the file system (Node). The browser build uses _wasm-load.browser.ts instead
 * (fetch and streaming compilation); see @si/web.
 *
 * Two builds of the same source: kernels-relaxed.wasm (relaxed SIMD: the float GEMM's multiply-adds
 * fused, one rounding instead of two and up to twice the throughput where the CPU has FMA) where the
 * engine accepts it, else kernels.wasm. Node 22 accepts relaxed SIMD by default; Node 20's V8 has it
 * behind --experimental-wasm-relaxed-simd, which is turned on here before the module compiles. Only the
 * float kernels (training and the float reference) use it; the ring arithmetic of the protocols is
 * integer and identical in both builds. SI_RELAXED_SIMD=0 keeps the plain build.
 * @module
 */
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';

function read(name: string): Uint8Array<ArrayBuffer> {
  // Same relative path from src/ (tests, via the @si/source condition) and from dist/ (published).
  const url = new URL(`../dist/${name}`, import.meta.url);
  try {
    return new Uint8Array(readFileSync(url));
  } catch (e) {
    throw new Error(`@si/ring: cannot read ${url.pathname}; build the package first (pnpm build)`, { cause: e });
  }
}

/** The relaxed build's bytes when this engine accepts them (turning Node 20's flag on if needed), else null. */
function relaxed(): Uint8Array<ArrayBuffer> | null {
  if (process.env.SI_RELAXED_SIMD === '0') return null;
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = read('kernels-relaxed.wasm');
  } catch {
    return null; // a build from before the relaxed module existed
  }
  if (WebAssembly.validate(bytes)) return bytes;
  setFlagsFromString('--experimental-wasm-relaxed-simd');
  return WebAssembly.validate(bytes) ? bytes : null;
}

const relaxedBytes = relaxed();

/** Whether the loaded kernels are the relaxed-SIMD build. */
export const relaxedSimd = relaxedBytes !== null;

export const wasmModule: WebAssembly.Module = new WebAssembly.Module(relaxedBytes ?? read('kernels.wasm'));
