/**
 * @si/patch-relu: patch specs, candidate patch sizes and their cost, and the patch ReLU in float32,
 * in fixed point, and secure.
 * @module
 */
export {
  RELU, IDENTITY, ZERO, kindOf, validateSpec, parseSpec, stringifySpec, uniformSpec, SpecError,
  type PatchSize, type PatchSpec, type ReluLayerInfo, type PatchKind,
} from './spec.ts';
export { sideSizes, candidatePatchSizes, patchCost, mergeEqualCost, type Option } from './candidates.ts';
export { patchReluF32, patchReluBackwardF32, patchReluFixed, applyMask } from './plain.ts';
export { patchRelu, patchReluClear, patchReluCost, patchReluDrelus, widened, layerMode } from './secure.ts';
