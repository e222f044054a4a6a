/**
 * @si/relu-protocols: secure sign tests and what is built on them. Every protocol is a record (@si/sharing's
 * `protocol`) with its cleartext twin on values and its declared cost; the package's tests run each through
 * the generic checker.
 * @module
 */
export { privateCompare, privateCompareCost, type PcInput } from './private-compare.ts';
export { carryCompare, carryCompareCost, carryPrime, type CarryInput } from './carry-compare.ts';
export {
  drelu, msb, relu, signTest, windowOf, windowsOf, exactDomain, differenceDomain, isNonNegative, simulateDrelu, compareCost, dreluCost, reluCost, bitsPerElement,
  researchDreluBits, FULL, type DreluMode, type Windows, type Product,
} from './drelu.ts';
export { mulBit, mulBitCost } from './bit.ts';
export { select, ge, gt, max, argmax, topk, topkCost, treeCost } from './compare.ts';
export { argmaxShallow, shallowCost, shallowGroup, pairModeOf, TWO_HOP_PAIRS } from './argmax-shallow.ts';
export { maxpool, maxpoolCost, type PoolOptions } from './maxpool.ts';
export { clip, clipCost } from './clip.ts';
export { shareConvert, shareConvertCost } from './share-convert.ts';
export { computeMsb, computeMsbCost, dreluSecureNN, dreluSecureNNCost } from './compute-msb.ts';
