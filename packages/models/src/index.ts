/**
 * @si/models: the graph IR, network definitions, the float32 engine, and model file formats.
 * @module
 */
export { Graph, GraphBuilder, GraphError, type Node, type Op, type Shape, type ParamSpec, type ReluLayer, type ConvAttrs } from './graph.ts';
export { resnet18Cifar, resnet50, deeplabV3R50, fmnistResNet, asppHead } from './defs/resnet.ts';
export { mobilenetV2, deeplabV3MobileNetV2 } from './defs/mobilenet.ts';
export { forward, backward, release, releaseGrads, type Params, type LayerSizes, type ForwardOptions, type Trace } from './float/engine.ts';
export { BufferPool, defaultPool } from './float/pool.ts';
export { initParams } from './float/init.ts';
export { crossEntropy, Sgd, cosineLr, stepLr, type SgdOptions } from './float/optim.ts';
export { readSafetensors, writeSafetensors, SafetensorsError, type SafeTensor } from './io/safetensors.ts';
export { saveParams, loadParams } from './io/params.ts';
export { importOnnx, OnnxError, SUPPORTED_OPS } from './io/onnx.ts';
export { Writer as ProtobufWriter } from './io/protobuf.ts';
export { compileFixed, publicView, publicModel, checkSecureSupport, averagingFactor, CompileError, type FixedModel, type FixedLayer } from './secure/compile.ts';
export {
  fixedForward, simulateForward, setupSecure, secureForward, secureForwardCost, setupSecureCost, prepareSecure, prepareSecureCost, type SecureModel, type RunOptions, type Preprocessed,
} from './secure/executor.ts';
