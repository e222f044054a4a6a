// Entry of the WebAssembly kernel module (compiled by scripts/build-wasm.mjs into dist/kernels.wasm).
export * from './elementwise';
export * from './patch';
export * from './gemm';
export * from './zp';
export * from './carry';
export * from './f32';
export * from './f32-channels';
export * from './aes';
