/**
 * The built-in ops, registered in the op table on import (one line each: an op is defined in its file).
 * @module
 */
export { input } from './input.ts';
export { conv, type ConvAttrs } from './conv.ts';
export { batchnorm, foldBatchNorm, type BatchNorm } from './batchnorm.ts';
export { relu } from './relu.ts';
export { relu6 } from './relu6.ts';
export { add } from './add.ts';
export { avgpool, averagingFactor } from './avgpool.ts';
export { maxpool, maxpoolFixed } from './maxpool.ts';
export { gap } from './gap.ts';
export { flatten } from './flatten.ts';
export { linear } from './linear.ts';
export { resize } from './resize.ts';
export { concat } from './concat.ts';
export { clip } from './clip.ts';
export { reshape } from './reshape.ts';
