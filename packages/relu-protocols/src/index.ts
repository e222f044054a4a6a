/**
 * @si/relu-protocols: secure sign tests and what is built on them. Each protocol comes with its
 * cleartext twin (*Clear) and its declared cost per call (*Cost).
 * @module
 */
export { privateCompare, privateCompareClear, privateCompareCost, type PcInput } from './private-compare.ts';
export {
  drelu, msb, relu, reluWithBit, dreluClear, dreluCost, reluCost, windowOf, windowsOf, compareWindows, compareCost, bitsPerElement,
  researchDreluBits, FULL, type DreluMode, type Windows, type Product, type CoreResult,
} from './drelu.ts';
export { SharedBit, mulBit, mulBitClear, mulBitCost, pick, bitsToRing } from './bit.ts';
export { select, selectClear, selectCost } from './select.ts';
export { maxpool, maxpoolClear, maxpoolCost, type PoolOptions } from './maxpool.ts';
export { shareConvert, shareConvertClear, shareConvertCost } from './share-convert.ts';
export { computeMsb, computeMsbCost, dreluSecureNN, dreluSecureNNCost } from './compute-msb.ts';
