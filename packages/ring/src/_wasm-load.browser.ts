/**
 * Loads the kernels in a browser: fetched next to the bundle (kernels.wasm) and compiled while it
 * streams in; the bundle's top-level await holds its importers until it is ready. The page must be
 * cross-origin isolated (COOP/COEP), since the kernels' memory is shared.
 * @module
 */
const url = new URL('./kernels.wasm', import.meta.url);
const response = await fetch(url);
if (!response.ok) throw new Error(`@si/ring: cannot fetch ${url.href}: HTTP ${response.status}`);

export const wasmModule: WebAssembly.Module = await WebAssembly.compileStreaming(response);

/** The browser build loads the plain kernels (see _wasm-load.ts for the relaxed-SIMD build in Node). */
export const relaxedSimd = false;
