/**
 * @si/sharing: the three parties, pairwise PRF streams, additive shares over Z_2^64, and the protocols on
 * them that need no comparison: reveal, truncation, Beaver products, linear layers with server-known
 * weights. Each protocol comes with its cleartext twin (*Clear) and its declared cost (*Cost).
 * @module
 */
export { Party, localParties } from './party.ts';
export { connectParty, type Deployment, type PartyOptions } from './network.ts';
export { PrfStream, Keystream } from './prf.ts';
export { ROLES, CLIENT, SERVER, HELPER, roleOf, idOf, DIRS, type PartyId, type Role, type Dir } from './roles.ts';
export { Shared, helperView, add, sub, neg, addPublic, mulScalar, mulPublic, rerandomize } from './shared.ts';
export { shareInput, shareInputClear, shareInputCost } from './input.ts';
export { reveal, revealClear, revealCost, type RevealTo } from './reveal.ts';
export { truncate, truncateClear, truncateCost } from './truncate.ts';
export { beaver, beaverClear, beaverCost, elementwise, matmulOp, convOp, type Bilinear } from './beaver.ts';
export {
  KnownWeights, LinearPre, setupKnownWeights, prepareLinearKnown, prepareLinearKnownCost, linearKnown, knownLayer, addChannelBias, linearKnownClear, linearKnownCost, knownWeightsSetupCost,
} from './linear.ts';
export { foldBatchNorm, type BatchNorm } from './fold.ts';
export { measuredCost, totalBytes, sequential, scaleBytes, NO_COST, type Cost } from './cost.ts';
