/**
 * Linear layers whose weights the server knows in the clear (DESIGN §4): no weight shares, and the
 * weight mask crosses the network once per model instead of once per inference.
 *
 * Setup (once per weight tensor W): P1 and P2 draw a mask B from their PRF stream; P1 sends D = W - B
 * to P0.
 * Online (per input x = x0 + x1), with A (input-shaped) and R (output-shaped) from the P0/P2 stream:
 *   P0 sends E = x0 - A to P1 and keeps y0 = op(A, D) + R;
 *   P2 sends G = op(A, B) - R to P1;
 *   P1 keeps y1 = op(E + x1, W) + G.
 * Sum: op(x - A, W) + op(A, W - B) + op(A, B) = op(x, W). P1 sees x - A (A unknown to it), P0 sees
 * W - B (B unknown to it), P2 sees nothing. Online traffic: one input-sized and one output-sized tensor,
 * one round (G does not depend on the input, so the helper can send it ahead).
 * @module
 */
import { ashape, RingTensor } from '@si/ring';
import type { Bilinear } from './beaver.ts';
import type { Cost } from './cost.ts';
import type { Party } from './party.ts';
import { Shared } from './shared.ts';
import { CLIENT, HELPER, SERVER } from './roles.ts';
import { truncate } from './truncate.ts';

const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

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
 * Runs in the 'setup' phase under the label `name`.
 */
export async function setupKnownWeights(
  p: Party, name: string, op: Bilinear, wShape: readonly number[], w?: RingTensor, bias?: RingTensor,
): Promise<KnownWeights> {
  return p.scope(name, async () => {
    const label = p.label('weight-mask');
    if (p.id === SERVER) {
      if (w === undefined) throw new Error(`the server has no weights for layer "${name}"`);
      ashape(w.shape, wShape, `weights of ${name}`);
      const b = p.prf(HELPER).ring(label, wShape);
      p.link(CLIENT).send('weights.masked', w.sub(b).data);
      return new KnownWeights(name, op, wShape, w, bias ?? null);
    }
    if (p.id === HELPER) return new KnownWeights(name, op, wShape, p.prf(SERVER).ring(label, wShape), null);
    const d = await p.link(SERVER).recvI64('weights.masked', size(wShape));
    return new KnownWeights(name, op, wShape, new RingTensor(d, wShape), null);
  }, 'setup');
}

/**
 * The input-independent half of linearKnown for inputs of shape xShape, done ahead (preprocessing):
 * P0 keeps A and op(A, W - B) + R, P2 sends G = op(A, B) - R to P1, who keeps it. The online call then
 * only sends E = x0 - A and computes P1's op(E + x1, W).
 */
export class LinearPre {
  constructor(readonly layer: string, readonly xShape: readonly number[], readonly a: RingTensor | null, readonly y: RingTensor | null) {}
}

export async function prepareLinearKnown(p: Party, layer: KnownWeights, xShape: readonly number[]): Promise<LinearPre> {
  const yShape = layer.op.outShape(xShape, layer.wShape);
  const label = p.label(layer.op.name);
  if (p.id === HELPER) {
    const a = p.prf(CLIENT).ring(`${label}:A`, xShape), r = p.prf(CLIENT).ring(`${label}:R`, yShape);
    p.link(SERVER).send('linear.G', layer.op.apply(a, layer.held).subInPlace(r).data);
    return new LinearPre(layer.name, xShape, null, null);
  }
  if (p.id === CLIENT) {
    const a = p.prf(HELPER).ring(`${label}:A`, xShape), r = p.prf(HELPER).ring(`${label}:R`, yShape);
    return new LinearPre(layer.name, xShape, a, layer.op.apply(a, layer.held).addInPlace(r));
  }
  return new LinearPre(layer.name, xShape, null, new RingTensor(await p.link(HELPER).recvI64('linear.G', size(yShape)), yShape));
}

/**
 * Shared op(x, W) for the layer's server-known W (no truncation, no bias). With `pre` (from
 * prepareLinearKnown for this layer and shape) only E crosses the network.
 */
export async function linearKnown(p: Party, x: Shared, layer: KnownWeights, pre?: LinearPre): Promise<Shared> {
  const yShape = layer.op.outShape(x.shape, layer.wShape);
  if (pre && (pre.layer !== layer.name || pre.xShape.join() !== x.shape.join()))
    throw new RangeError(`preprocessing for "${pre.layer}" [${pre.xShape.join(',')}] used for "${layer.name}" [${x.shape.join(',')}]`);
  if (p.id === HELPER) {
    if (!pre) await prepareLinearKnown(p, layer, x.shape);
    return new Shared(yShape, null);
  }
  if (p.id === CLIENT) {
    if (pre) {
      p.link(SERVER).send('linear.E', x.share!.sub(pre.a!).data);
      return new Shared(yShape, pre.y);
    }
    // E goes out before P0's own product is computed, so P1 can start on its half.
    const label = p.label(layer.op.name);
    const a = p.prf(HELPER).ring(`${label}:A`, x.shape), r = p.prf(HELPER).ring(`${label}:R`, yShape);
    p.link(SERVER).send('linear.E', x.share!.sub(a).data);
    return new Shared(yShape, layer.op.apply(a, layer.held).addInPlace(r));
  }
  const [e, g] = await Promise.all([
    p.link(CLIENT).recvI64('linear.E', x.size),
    pre ? pre.y! : p.link(HELPER).recvI64('linear.G', size(yShape)).then((d) => new RingTensor(d, yShape)),
  ]);
  const y1 = layer.op.apply(new RingTensor(e, x.shape).addInPlace(x.share!), layer.held);
  return new Shared(yShape, y1.addInPlace(g));
}

/** Adds a per-channel bias (axis 1 of [N, C, ...]) to P1's share. */
export function addChannelBias(p: Party, y: Shared, bias: RingTensor | null): Shared {
  if (p.id !== SERVER || bias === null) return y;
  const [N, C] = y.shape as [number, number];
  if (bias.size !== C) throw new RangeError(`bias has ${bias.size} values for ${C} channels`);
  const inner = size(y.shape.slice(2));
  const full = new BigInt64Array(y.size);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) full.fill(bias.data[c]!, (n * C + c) * inner, (n * C + c + 1) * inner);
  return new Shared(y.shape, y.share!.add(new RingTensor(full, y.shape)));
}

/**
 * A full fixed-point layer: op(x, W), truncated by f bits (local, error in {0, +1} ulp, see truncate.ts),
 * plus the bias (P1 adds it, at the activation scale, after the truncation).
 */
export async function knownLayer(p: Party, x: Shared, layer: KnownWeights, f: number): Promise<Shared> {
  return p.scope(layer.name, async () => addChannelBias(p, truncate(p, await linearKnown(p, x, layer), f), layer.bias));
}

/** Twin of linearKnown: op(x, W). */
export const linearKnownClear = (x: RingTensor, w: RingTensor, op: Bilinear): RingTensor => op.apply(x, w);

/** Online: E (input-sized) from P0 to P1 and G (output-sized) from P2 to P1, one round. */
export const linearKnownCost = (xSize: number, ySize: number, prepared = false): Cost =>
  prepared ? { bytes: { '0>1': 8 * xSize }, rounds: 1 } : { bytes: { '0>1': 8 * xSize, '2>1': 8 * ySize }, rounds: 1 };

/** Declared cost of prepareLinearKnown. */
export const prepareLinearKnownCost = (ySize: number): Cost => ({ bytes: { '2>1': 8 * ySize }, rounds: 1 });

/** Setup: the masked weights from P1 to P0, one round. */
export const knownWeightsSetupCost = (wSize: number): Cost => ({ bytes: { '1>0': 8 * wSize }, rounds: 1 });
