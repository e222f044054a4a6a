/**
 * @si/ring: tensors over Z_2^64 with WebAssembly kernels, fixed point, Z_2^k and Z_p helpers.
 * @module
 */
export { RingTensor, addInto, subInto, mulInto, negInto, affineInto, shrInto, shrLogicalInto, shlInto, words } from './tensor.ts';
export { matmul, narrowProductCount } from './matmul.ts';
export { conv2d, convGeometry, type Conv2dOptions, type ConvGeometry } from './conv.ts';
export { patchSum, patchExpand, patchCount } from './patch.ts';
export { encodeFixed, decodeFixed, DEFAULT_FRAC_BITS } from './fixed.ts';
export { ringToNdarray, ringFromNdarray, encodeNdarray, decodeNdarray, isWholeRowMajor } from './ndarray.ts';
export { reduceK, addK, subK, negK, msbK, toSignedK } from './smallring.ts';
export {
  ZP, pcPrime, zpDigitBits, packZp, unpackZp, packedZpBytes, addZp, subZp, mulZp, sampleZp, samplePermutations, zpCompareDigits, zpFindZero, zpSubDrawnPacked,
  bitsOfWords, splitTopBits, type ByteSource, type ZpMaskSources,
} from './zp.ts';
export { carryPrime, carryDigitBits, carryPackedBytes, carryDigits, carryFindZero, type CarryMaskSources } from './carry.ts';
export { bitsMsbFirst, bitsMsbFirstK } from './bits.ts';
export { aint, ashape, ashapeLike, ai64, abytes, afn, shapeSize, resolveShape } from './guards.ts';
export { getThreads, setThreads, workerJobCount } from './_pool.ts';
export { sgemm, conv2dF32, conv2dBackwardF32, type SgemmOptions } from './f32.ts';
export { relaxedSimd } from './_wasm.ts';
export { channelAffineF32, channelAffineBackwardF32, reluMaskF32, maskMulF32 } from './f32-channels.ts';
export { secureRandom } from './random.ts';
export { aesCtrStream } from './aes.ts';
