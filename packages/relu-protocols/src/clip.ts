/**
 * Clip(x, 0, hi) = min(max(x, 0), hi) for a public hi > 0 (ReLU6 is hi = 6 at the fixed-point scale):
 *   min(max(x, 0), hi) = relu(x) - relu(x - hi)
 * (x < 0: 0 - 0; 0 <= x < hi: x - 0; x >= hi: x - (x - hi) = hi). The two ReLUs do not depend on each
 * other, so they run concurrently under sibling scopes: the rounds of one ReLU, the bytes of two.
 * In truncated modes both comparisons see their own window: exact where x and x - hi are in
 * exactDomain(mode); within 2^d below 0 or below hi the window may round (a tiny negative passes, a value
 * just below hi is clipped to hi).
 * @module
 */
import { RingTensor, shapeSize } from '@si/ring';
import { addPublic, parallel, protocol, sub, type Cost, type Domain, type Party, type Shared } from '@si/sharing';
import { FULL, relu, reluCost, windowOf, type DreluMode } from './drelu.ts';

async function clipRun(p: Party, x: Shared, hi: bigint, mode: DreluMode = FULL): Promise<Shared> {
  if (!(hi > 0n)) throw new RangeError(`"hi" expected a positive bound, got ${hi}`);
  return p.scope('clip', async (q) => {
    const [low, high] = await Promise.all([
      q.scope('lower', (r) => relu(r, x, mode)),
      q.scope('upper', (r) => relu(r, addPublic(r, x, -hi), mode)),
    ]);
    return sub(q, low, high);
  });
}

/** Two ReLUs at once: twice the bytes, the rounds of one. */
export const clipCost = (n: number, mode: DreluMode = FULL): Cost => parallel(reluCost(n, mode), reluCost(n, mode));

interface ClipParams {
  shape: readonly number[];
  hi: bigint;
  mode: DreluMode;
}

/** Inputs where both windows are exact: x and x - hi in the window, neither within 2^d below its boundary. */
function clipDomain(o: ClipParams): Domain {
  const { k, d } = windowOf(o.mode);
  // Full mode: everything, cut at 0 and hi so the edge trial has -1, 0, 1, hi - 1, hi and hi + 1.
  if (k === 64) return [[-(2n ** 62n), -1n], [0n, o.hi - 1n], [o.hi, 2n ** 62n]];
  const D = 2n ** BigInt(d), H = 2n ** BigInt(d + k - 1), top = (2n ** BigInt(k - 1) - 1n) * D - 1n;
  const lo = o.hi - H > -H ? o.hi - H : -H;
  return [[lo, -D - 1n], [0n, o.hi - D - 1n], [o.hi, top]];
}

/**
 * min(max(x, 0), hi) elementwise, in a scope 'clip' with the two comparisons in sibling scopes 'lower'
 * and 'upper'.
 * @throws {RangeError} when hi is not positive
 */
export const clip = protocol(clipRun, {
  name: 'clip',
  inputs: (o: ClipParams) => [{ shape: o.shape, domain: clipDomain(o) }],
  run: (p, [x], o) => clipRun(p, x as Shared, o.hi, o.mode),
  clear: ([x], o) => RingTensor.from(Array.from(x!.data, (v) => (v < 0n ? 0n : v > o.hi ? o.hi : v)), x!.shape),
  cost: (o) => clipCost(shapeSize(o.shape), o.mode),
  examples: [
    { shape: [3, 40], hi: 6n * 4096n, mode: FULL },
    { shape: [200], hi: 6n * 4096n, mode: { mode: 'small-ring', dropLowBits: 4, keepBits: 16 } },
    { shape: [50], hi: 1n, mode: FULL },
  ],
});
