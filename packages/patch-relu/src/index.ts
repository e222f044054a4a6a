/**
 * @si/patch-relu: patch specs, candidate patch sizes and their cost, and the patch ReLU in float32,
 * in fixed point, and secure (a checked protocol record, as is the patch Clip(0, t) built on it).
 * @module
 */
export {
  RELU, IDENTITY, ZERO, kindOf, validateSpec, parseSpec, stringifySpec, uniformSpec, SpecError,
  type PatchSize, type PatchSpec, type ReluLayerInfo, type PatchKind,
} from './spec.ts';
export { sideSizes, candidatePatchSizes, patchCost, mergeEqualCost, type Option } from './candidates.ts';
export { patchReluF32, patchReluBackwardF32, patchReluFixed } from './plain.ts';
export { patchRelu, patchReluCost, patchReluDrelus, patchClip, patchClipCost, patchClipDrelus, simulatePatchRelu, widened, layerMode } from './secure.ts';
