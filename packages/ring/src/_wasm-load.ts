/**
 * Loads dist/kernels.wasm from the file system (Node). The browser build uses _wasm-load.browser.ts
 * instead (fetch and streaming compilation); see @si/web.
 * @module
 */
import { readFileSync } from 'node:fs';

function loadModule(): WebAssembly.Module {
  // Same relative path from src/ (tests, via the @si/source condition) and from dist/ (published).
  const url = new URL('../dist/kernels.wasm', import.meta.url);
  let bytes: Buffer;
  try {
    bytes = readFileSync(url);
  } catch (e) {
    throw new Error(`@si/ring: cannot read ${url.pathname}; build the package first (pnpm build)`, { cause: e });
  }
  return new WebAssembly.Module(new Uint8Array(bytes));
}

export const wasmModule: WebAssembly.Module = loadModule();
