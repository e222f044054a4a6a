/**
 * @si/models: the graph IR and its op table, network definitions, the float32 engine, fixed-point
 * compilation, the ring backends (twin, simulation, secure run, costs) on one graph walk, and model file
 * formats.
 * @module
 */
export { Graph, GraphBuilder, GraphError, type Node, type NodeOf, type OpName, type OpTypes, type Shape, type ParamSpec, type ReluLayer } from './graph.ts';
export * as ops from './ops/index.ts';
export { foldBatchNorm, averagingFactor, maxpoolFixed, type ConvAttrs, type BatchNorm } from './ops/index.ts';
export { registerOp, opDef } from './ops/table.ts';
export { defineOp, type OpDef, type Backend, type FloatCtx, type FloatForward, type FloatBackward, type CompileCtx, type FixedLayer, type Params, type LayerSizes } from './ops/op.ts';
export { walk, walkSync, walkAsync, type WalkOptions, type Step } from './walk.ts';
export { resnet18Cifar, resnet50, deeplabV3R50, fmnistResNet, asppHead, type SegOptions } from './defs/resnet.ts';
export { mobilenetV2, deeplabV3MobileNetV2 } from './defs/mobilenet.ts';
export { sceneNet } from './defs/scenes.ts';
export { forward, backward, release, releaseGrads, type ForwardOptions, type Trace } from './float/engine.ts';
export { BufferPool, defaultPool } from './float/pool.ts';
export { initParams } from './float/init.ts';
export { crossEntropy, Sgd, cosineLr, stepLr, type SgdOptions } from './float/optim.ts';
export { readSafetensors, writeSafetensors, SafetensorsError, type SafeTensor } from './io/safetensors.ts';
export { saveParams, loadParams } from './io/params.ts';
export { importOnnx, OnnxError, SUPPORTED_OPS } from './io/onnx.ts';
export { exportOnnx } from './io/onnx-export.ts';
export { Writer as ProtobufWriter } from './io/protobuf.ts';
export { compileFixed, publicView, publicModel, checkSecureSupport, CompileError, type FixedModel } from './secure/compile.ts';
export {
  fixedForward, simulateForward, setupSecure, secureForward, secureForwardCost, setupSecureCost, prepareSecure, prepareSecureCost, Preprocessed, type SecureModel, type RunOptions, type Comparison,
} from './secure/executor.ts';
export { windowReport, windowLimits, type WindowReport, type WindowLayer } from './secure/windows.ts';
export { secureClassify, secureBatch, twinClassify, classifyCost, parseReveal, revealName, RevealError, type Reveal, type Classified } from './secure/output.ts';
export { train, predict, accuracy, argmax, distillation, recomputeBatchNorm, type TrainOptions, type Dataset } from './train/train.ts';
export {
  measureDistortion, compareTables, spearman, specFromTable, parseTable, candidateSizes, type DistortionTable, type DistortionMethod, type LayerDistortion, type DistortionOptions,
} from './train/distortion.ts';
export { agree, finish, parseMode, specDigest, SessionError, type PublicParams } from './session.ts';
