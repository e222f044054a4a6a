/**
 * @si/cli: secure inference sessions as processes. `runParty` is one party (its own host); `runLocal`
 * runs all three as local processes over TLS; `Service` is the server or helper serving many sessions
 * (`si serve`); the `si` command wraps them.
 * @module
 */
export { runParty, runSession, loadParty, dreluCount, logitsArray, type LoadedParty, type PartySetup, type PartyConfig, type PartyHooks, type PartyReport, type RunSummary, type LayerReport, type PhaseReport, type ImageResult } from './party.ts';
export { Service, type ServeConfig } from './serve.ts';
export { ServiceMetrics, LATENCY_BUCKETS } from './metrics.ts';
export { loadInput, expandImages, looksLikeIdx, type InputSource, type LoadedInput } from './input.ts';
export { runCli, type Proc as CliProcess, type Event as CliEvent } from './child.ts';
export { runLocal, mergeReports, partyArgs, ALLOCATOR_ENV, type LocalOptions, type SessionReport, type LayerTotals } from './orchestrate.ts';
export { agree, parseMode, specDigest, SessionError, type PublicParams } from './session.ts';
export { writeDeploymentCerts, readCredentials, readDeployment, type CertOptions, type DeploymentFile } from './certs.ts';
export { plaintextPredictions } from './check.ts';
export { windowCheck, formatWindowCheck, layersAbove, type WindowCheck, type WindowCheckLayer, type WindowCheckOptions } from './window-check.ts';
export { MODELS, graphOf, loadManifest, loadWeights, loadSpec, syntheticWeights, syntheticSpec, syntheticDistortions, PAPER_IDENTITY_WEIGHT, type SyntheticGroup } from './models.ts';
export { readIdx, idxImages, idxLabels, randomImages, DataError } from './data.ts';
export { Progress, fmtBytes, fmtSeconds } from './progress.ts';
export { ensureFashion, loadFashion, fashionDir, fashionFiles, CLASS_NAMES, DEBIAN_DIR, DEBIAN_PACKAGE, type Dataset, type Split } from './fashion.ts';
export { evaluate, declaredBytesPerImage, type EvalOptions, type EvalReport } from './evaluate.ts';
export { demo, ASSETS } from './demo.ts';
export { makeScenes, meanIoU, SCENE_CLASSES, THRESHOLD, type Scenes } from './scenes.ts';
export { taskData, taskOfGraph, score, type Task } from './tasks.ts';
export { upsampleLabels } from './labels.ts';
