/**
 * @si/sharing: the three parties, pairwise PRF streams, the dealer of correlated randomness, additive
 * shares over Z_2^64 and their local operations, and the protocols on them that need no comparison:
 * input sharing, reveal, truncation (local and dealt), Beaver products, linear layers with server-known
 * weights. Every protocol is a record (`protocol.ts`) with its cleartext twin and declared cost; the
 * generic checker is `@si/sharing/testing`.
 * @module
 */
export { Party, localParties } from './party.ts';
export { connectParty, peersOf, type Deployment, type PartyOptions } from './network.ts';
export { startParty } from './start.ts';
export { PrfStream, Keystream } from './prf.ts';
export { ROLES, CLIENT, SERVER, HELPER, roleOf, idOf, DIRS, type PartyId, type Role, type Dir } from './roles.ts';
export { Dealer, dealer, dealCost, RING64, ZP67, zpGroup, wordsGroup, type ShareGroup, type Dealt } from './dealer.ts';
export { protocol, RING, signedBits, type Protocol, type ProtocolSpec, type Slot, type Domain, type Input, type Output, type OutputKind, type Tolerance } from './protocol.ts';
export { Shared, helperView, fromPublic, add, sub, neg, addPublic, mulScalar, mulPublic, concat, slice, split, gather, rerandomize } from './shared.ts';
export { SharedBit, pick, bitsToRing } from './bit.ts';
export { shareInput, shareInputCost } from './input.ts';
export { reveal, revealCost, type RevealTo } from './reveal.ts';
export { truncate, truncateShare, truncateDealt, truncateDealtCost } from './truncate.ts';
export { beaver, beaverCost, clearBilinear, elementwise, matmulOp, convOp, type Bilinear } from './beaver.ts';
export {
  KnownWeights, LinearPre, setupKnownWeights, prepareLinearKnown, prepareLinearKnownCost, linearKnown, linearKnownSharedMask, addChannelBias, broadcastChannels, linearKnownCost, knownWeightsSetupCost,
} from './linear.ts';
export { measuredCost, totalBytes, sequential, parallel, scaleBytes, messages, NO_COST, type Cost, type Depth, type Message } from './cost.ts';
export { sha256 } from './crypto.ts';
