/**
 * Linear layers whose weights the server knows in the clear (DESIGN §4): no weight shares, and the
 * weight mask crosses the network once per model instead of once per inference.
 *
 * Setup (once per weight tensor W): P1 and P2 hold a mask B (the dealer's mask with P1); P1 sends
 * D = W - B to P0.
 * Per input x = x0 + x1, with A (input-shaped, the dealer's mask with P0) and shares S0 + S1 of op(A, B)
 * dealt by the helper (S0 from P0's stream, S1 sent to P1):
 *   P0 sends E = x0 - A to P1 and keeps y0 = op(A, D) + S0;
 *   P1 keeps y1 = op(E + x1, W) + S1.
 * Sum: op(x - A, W) + op(A, W - B) + op(A, B) = op(x, W). P1 sees x - A (A unknown to it), P0 sees
 * W - B (B unknown to it), P2 sees nothing. Online traffic: one input-sized and one output-sized tensor,
 * one round; S1 does not depend on the input, so it can be dealt ahead (prepareLinearKnown), and then
 * only E crosses the network online.
 *
 * Layers that read the same input (a residual block's first conv and its downsample conv, the branches
 * of an ASPP) can share its mask: prepared with `sameInputAs`, a layer reuses the earlier layer's A, so
 * the one E that P1 received serves both and the later layer sends nothing online. P1 learns nothing new
 * (it is the same x - A); what must never happen is one A on two different inputs, which the
 * single-use preprocessing guards against: a preprocessing object is single-use, since two inputs masked
 * with the same A would give P1 x - x'.
 * @module
 */
import { ashape, RingTensor, shapeSize } from '@si/ring';
import { clearBilinear, convOp, matmulOp, type Bilinear } from './beaver.ts';
import { messages, NO_COST, type Cost } from './cost.ts';
import { dealer } from './dealer.ts';
import type { Party } from './party.ts';
import { protocol } from './protocol.ts';
import { Shared } from './shared.ts';
import { CLIENT, HELPER, SERVER } from './roles.ts';

/** One party's part of a server-known weight tensor after setup. */
export class KnownWeights {
  /**
   * @param held - P0: W - B; P1: W; P2: B
   * @param bias - P1 only: bias at the activation scale, one per output channel
   */
  constructor(readonly name: string, readonly op: Bilinear, readonly wShape: readonly number[], readonly held: RingTensor, readonly bias: RingTensor | null) {}
}

/**
 * Setup of one layer: P1 passes its weights (and optional bias), the others only the shape.
 * Runs in the 'setup' phase in a scope `name`.
 */
export function setupKnownWeights(
  p: Party, name: string, op: Bilinear, wShape: readonly number[], w?: RingTensor, bias?: RingTensor,
): Promise<KnownWeights> {
  return p.scope(name, async (q) => {
    const b = dealer(q).mask(wShape, SERVER);
    if (q.id === SERVER) {
      if (w === undefined) throw new Error(`the server has no weights for layer "${name}"`);
      ashape(w.shape, wShape, `weights of ${name}`);
      q.link(CLIENT).send('weights.masked', w.sub(b!).data);
      return new KnownWeights(name, op, wShape, w, bias ?? null);
    }
    if (q.id === HELPER) return new KnownWeights(name, op, wShape, b!, null);
    const d = await q.link(SERVER).recvI64('weights.masked', shapeSize(wShape));
    return new KnownWeights(name, op, wShape, new RingTensor(d, wShape), null);
  }, 'setup');
}

/**
 * The input-independent half of linearKnown for inputs of shape xShape, done ahead (preprocessing): P0
 * keeps A and op(A, W - B) + S0, P1 keeps S1. Use it once.
 */
export class LinearPre {
  private used = false;
  /** P1: the E it received, kept while layers that reuse this mask still have to run. */
  private e: RingTensor | null = null;
  private reusers = 0;

  /** @param maskOf - the earlier layer (same input) whose mask A this one reuses, or null */
  constructor(
    readonly layer: string, readonly xShape: readonly number[], private readonly a: RingTensor | null, private readonly y: RingTensor | null,
    readonly maskOf: LinearPre | null = null,
  ) {
    if (maskOf) maskOf.reusers++;
  }

  /** @internal the mask A (P0 and the helper; null at P1), for a layer that reuses it */
  get mask(): RingTensor | null {
    return this.a;
  }

  /** @internal P1 keeps E if later layers reuse the mask; returns whether it did. */
  keep(e: RingTensor): boolean {
    if (this.reusers > 0) this.e = e;
    return this.reusers > 0;
  }

  /**
   * @internal P1: the E of the layer whose mask this one reuses (it ran first), dropped after its last
   * reuser.
   * @throws {Error} when that layer has not run
   */
  reusedE(): RingTensor {
    const src = this.maskOf!;
    if (src.e === null) throw new Error(`"${this.layer}" reuses the input mask of "${src.layer}", which has not run yet`);
    const e = src.e;
    if (--src.reusers === 0) src.e = null;
    return e;
  }

  /**
   * Hands out the preprocessed values, once.
   * @throws {Error} on a second use (it would reveal the difference of two inputs to the server)
   */
  take(layer: string, xShape: readonly number[]): { a: RingTensor | null; y: RingTensor | null } {
    if (this.layer !== layer || this.xShape.join() !== xShape.join())
      throw new RangeError(`preprocessing for "${this.layer}" [${this.xShape.join(',')}] used for "${layer}" [${xShape.join(',')}]`);
    if (this.used) throw new Error(`preprocessing for "${this.layer}" was already used: a second input masked with the same A would show the server the difference of the two`);
    this.used = true;
    return { a: this.a, y: this.y };
  }
}

/** Deals A (or reuses `a`) and the shares of op(A, B) in p's scope; P1's share arrives as a promise. */
function deal(p: Party, layer: KnownWeights, xShape: readonly number[], reuse?: { a: RingTensor | null }): { a: RingTensor | null; y: PromiseLike<RingTensor | null> } {
  const yShape = layer.op.outShape(xShape, layer.wShape);
  const d = dealer(p);
  const a = reuse ? reuse.a : d.mask(xShape, CLIENT);
  const s = d.share(yShape, () => layer.op.apply(a!, layer.held));
  if (p.id !== CLIENT) return { a, y: s };
  return { a, y: s.then((s0) => layer.op.apply(a!, layer.held).addInPlace(s0!)) };
}

/**
 * Deals the input-independent half of linearKnown ahead, in a scope 'prepare'. With `sameInputAs` (the
 * preprocessing of an earlier layer on the same input tensor) the mask A is reused: online, this layer
 * sends nothing and P1 applies its weights to the E it received for that layer.
 * @throws {RangeError} when `sameInputAs` is for another input shape
 */
export function prepareLinearKnown(p: Party, layer: KnownWeights, xShape: readonly number[], sameInputAs?: LinearPre): Promise<LinearPre> {
  if (sameInputAs && sameInputAs.xShape.join() !== xShape.join())
    throw new RangeError(`"${layer.name}" [${xShape.join(',')}] cannot reuse the mask of "${sameInputAs.layer}" [${sameInputAs.xShape.join(',')}]`);
  return p.scope('prepare', async (q) => {
    const { a, y } = deal(q, layer, xShape, sameInputAs ? { a: sameInputAs.mask } : undefined);
    return new LinearPre(layer.name, xShape, a, await y, sameInputAs ?? null);
  });
}

async function linearKnownRun(p: Party, x: Shared, layer: KnownWeights, pre?: LinearPre): Promise<Shared> {
  const yShape = layer.op.outShape(x.shape, layer.wShape);
  const got = pre?.take(layer.name, x.shape);
  return p.scope('linear', async (q) => {
    const { a, y } = got ? { a: got.a, y: Promise.resolve(got.y) } : deal(q, layer, x.shape);
    if (q.id === HELPER) {
      await y;
      return new Shared(yShape, null);
    }
    const reused = pre?.maskOf ?? null;
    if (q.id === CLIENT) {
      // E goes out before P0's own product is computed, so P1 can start on its half (unless an earlier
      // layer on the same input sent it).
      if (!reused) q.link(SERVER).send('E', x.share!.sub(a!).data);
      return new Shared(yShape, await y);
    }
    const e = reused ? pre!.reusedE() : new RingTensor(await q.link(CLIENT).recvI64('E', x.size), x.shape);
    const kept = pre?.keep(e) ?? false;
    const y1 = layer.op.apply(reused || kept ? e.add(x.share!) : e.addInPlace(x.share!), layer.held);
    return new Shared(yShape, y1.addInPlace((await y)!));
  });
}

/** Adds a per-channel bias (axis 1 of [N, C, ...]) to P1's share. */
export function addChannelBias(p: Party, y: Shared, bias: RingTensor | null): Shared {
  if (p.id !== SERVER || bias === null) return y;
  return new Shared(y.shape, y.share!.add(broadcastChannels(bias, y.shape)));
}

/** A per-channel vector [C] broadcast to a tensor of shape [N, C, ...]. */
export function broadcastChannels(v: RingTensor, shape: readonly number[]): RingTensor {
  const [N, C] = shape as [number, number];
  if (v.size !== C) throw new RangeError(`"v" has ${v.size} values for ${C} channels`);
  const inner = shapeSize(shape.slice(2));
  const full = new BigInt64Array(shapeSize(shape));
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) full.fill(v.data[c]!, (n * C + c) * inner, (n * C + c + 1) * inner);
  return new RingTensor(full, shape);
}

/**
 * Online: E (input-sized) from P0 to P1 and, unless preprocessed, S1 (output-sized) from P2 to P1; one
 * round. A preprocessed layer that reuses an earlier layer's mask (`sharedMask`) sends nothing.
 */
export const linearKnownCost = (xSize: number, ySize: number, prepared = false, sharedMask = false): Cost =>
  prepared && sharedMask ? NO_COST : messages(prepared ? [['0>1', 8 * xSize]] : [['2>1', 8 * ySize], ['0>1', 8 * xSize]]);

/** Declared cost of prepareLinearKnown. */
export const prepareLinearKnownCost = (ySize: number): Cost => messages([['2>1', 8 * ySize]]);

/** Setup: the masked weights from P1 to P0, one round. */
export const knownWeightsSetupCost = (wSize: number): Cost => messages([['1>0', 8 * wSize]]);

interface LinearParams {
  op: Bilinear;
  x: readonly number[];
  w: readonly number[];
  /** Deal the input-independent half ahead (then only E is online). */
  prepared?: boolean;
}

/**
 * Shared op(x, W) for the layer's server-known W (no truncation, no bias), in a scope 'linear'. With
 * `pre` (from prepareLinearKnown for this layer and shape, used once) only E crosses the network.
 * @throws {Error} when `pre` is for another layer or shape, or was used before
 */
export const linearKnown = protocol(linearKnownRun, {
  name: 'linear-known',
  inputs: (o: LinearParams) => [{ shape: o.x }, { shape: o.w, as: 'server' }],
  async run(p, [x, w], o) {
    const kw = await setupKnownWeights(p, 'weights', o.op, o.w, (w as RingTensor | null) ?? undefined);
    const pre = o.prepared ? await p.inPhase('preprocess', (q) => prepareLinearKnown(q, kw, o.x)) : undefined;
    return linearKnownRun(p, x as Shared, kw, pre);
  },
  clear: ([x, w], o) => clearBilinear(x!, w!, o.op),
  cost: (o) => linearKnownCost(shapeSize(o.x), shapeSize(o.op.outShape(o.x, o.w)), o.prepared),
  examples: [
    { op: matmulOp, x: [3, 8], w: [8, 5] },
    { op: matmulOp, x: [3, 8], w: [8, 5], prepared: true },
    { op: convOp({ padding: 1, stride: 2 }), x: [2, 3, 6, 5], w: [4, 3, 3, 3] },
    { op: convOp({ padding: 1, groups: 2 }), x: [1, 4, 5, 5], w: [6, 2, 3, 3], prepared: true },
  ],
});

interface SharedMaskParams {
  op: Bilinear;
  x: readonly number[];
  /** The two layers' weight shapes. */
  w: readonly number[];
  w2: readonly number[];
}

const flat = (t: RingTensor): RingTensor => t.reshape([t.size]);

/** Both layers' outputs flattened end to end (the record's one output). */
function bothOutputs(y1: Shared, y2: Shared): Shared {
  const n = y1.size + y2.size;
  return new Shared([n], y1.share === null ? null : RingTensor.concat([flat(y1.share), flat(y2.share!)], 0));
}

/**
 * Two server-known linear layers on one input with one mask (the second prepared with `sameInputAs` the
 * first), their outputs flattened end to end: the shared-mask path as one record, so the generic checker
 * holds it to its twin, its declared cost and the view tests like any protocol. Online only the first
 * layer's E crosses the network.
 */
export const linearKnownSharedMask = protocol(
  async (p: Party, x: Shared, layers: readonly [KnownWeights, KnownWeights], pres: readonly [LinearPre, LinearPre]): Promise<Shared> =>
    bothOutputs(await linearKnownRun(p, x, layers[0], pres[0]), await linearKnownRun(p, x, layers[1], pres[1])),
  {
    name: 'linear-known-shared-mask',
    inputs: (o: SharedMaskParams) => [{ shape: o.x }, { shape: o.w, as: 'server' }, { shape: o.w2, as: 'server' }],
    async run(p, [x, w, w2], o) {
      const k1 = await setupKnownWeights(p, 'weights', o.op, o.w, (w as RingTensor | null) ?? undefined);
      const k2 = await setupKnownWeights(p, 'weights2', o.op, o.w2, (w2 as RingTensor | null) ?? undefined);
      const pre1 = await p.inPhase('preprocess', (q) => prepareLinearKnown(q, k1, o.x));
      const pre2 = await p.inPhase('preprocess', (q) => prepareLinearKnown(q, k2, o.x, pre1));
      return bothOutputs(await linearKnownRun(p, x as Shared, k1, pre1), await linearKnownRun(p, x as Shared, k2, pre2));
    },
    clear: ([x, w, w2], o) => RingTensor.concat([flat(clearBilinear(x!, w!, o.op)), flat(clearBilinear(x!, w2!, o.op))], 0),
    cost: (o) => linearKnownCost(shapeSize(o.x), shapeSize(o.op.outShape(o.x, o.w)), true),
    examples: [
      { op: matmulOp, x: [3, 8], w: [8, 5], w2: [8, 2] },
      // Two convs of different kernels and widths on one input (as a block's first conv and its shortcut).
      { op: convOp({ padding: 1, stride: 2 }), x: [2, 3, 6, 6], w: [4, 3, 3, 3], w2: [5, 3, 1, 1] },
    ],
  },
);
