/**
 * Secure patch ReLU for a whole layer, any batch size.
 *
 *   1. Channels are grouped by patch size; each group's patch sums are local (sums of shares).
 *   2. One comparison for the whole layer: DReLU of every patch sum (any @si/relu-protocols mode). In
 *      truncated modes a layer with patches compares on a wider window (see layerMode): its top reaches
 *      ceil(log2(ph*pw)) bits above the mode's, so a sum of ph*pw pixels fits as one pixel does, and its
 *      bottom comes down to bit 0 while k <= 32 allows, so a sum near 0 is not rounded: one wrong patch
 *      sign changes every pixel of the patch, where a plain ReLU's changes one value by a few units.
 *   3. In the same three rounds, the pixels of the active channels are opened masked (w = x + m) and the
 *      helper deals v*m at pixel resolution; the patch bit is broadcast to its pixels locally (no
 *      traffic) and multiplied: y = x * expand(bit).
 *   4. Identity channels pass through and zero channels become 0, for free.
 * Cost: the comparison on every patch plus 24 bytes per active pixel (see patchReluCost).
 * @module
 */
import { patchCount, patchExpand, patchSum, RingTensor, shapeSize } from '@si/ring';
import { fromPublic, HELPER, protocol, RING, Shared, sequential, sub, type Cost, type Domain, type Party } from '@si/sharing';
import { clip, clipCost, compareCost, exactDomain, relu, reluCost, signTest, simulateDrelu, windowOf, windowsOf, type DreluMode } from '@si/relu-protocols';
import { patchReluFixed } from './plain.ts';
import { kindOf, type PatchSize } from './spec.ts';

interface Group {
  ph: number;
  pw: number;
  channels: number[];
}

interface Plan {
  N: number;
  C: number;
  H: number;
  W: number;
  groups: Group[];
  identity: number[];
  patches: number;
  pixels: number;
}

function plan(shape: readonly number[], sizes: readonly PatchSize[]): Plan {
  if (shape.length !== 4) throw new RangeError(`"x" expected shape [N,C,H,W], got [${shape.join(',')}]`);
  const [N, C, H, W] = shape as [number, number, number, number];
  if (sizes.length !== C) throw new RangeError(`${sizes.length} patch sizes for ${C} channels`);
  const byKey = new Map<string, Group>();
  const identity: number[] = [];
  sizes.forEach((s, c) => {
    const k = kindOf(s);
    if (k === 'identity') identity.push(c);
    if (k !== 'relu' && k !== 'patch') return;
    const ph = Math.min(s[0], H), pw = Math.min(s[1], W);
    const key = `${ph}x${pw}`;
    let g = byKey.get(key);
    if (!g) byKey.set(key, (g = { ph, pw, channels: [] }));
    g.channels.push(c);
  });
  const groups = [...byKey.values()];
  let patches = 0, pixels = 0;
  for (const g of groups) {
    patches += N * g.channels.length * patchCount(H, g.ph) * patchCount(W, g.pw);
    pixels += N * g.channels.length * H * W;
  }
  return { N, C, H, W, groups, identity, patches, pixels };
}

const extraBits = (ph: number, pw: number): number => Math.ceil(Math.log2(ph * pw));


/**
 * The comparison mode of a layer in truncated modes. A layer of plain ReLUs keeps the mode. A layer with
 * patches must hold sums of up to 2^e values (e = ceil(log2(ph*pw)) of its largest patch) where the mode
 * holds one: bits up to d + k + e. It compares k' = min(32, d + k + e) bits, so the d low bits are kept too
 * (the sign of a patch sum is exact, not rounded by local truncation) unless k' = 32 leaves no room.
 * The two-hop test keeps k (its bytes grow with k^2): a group's sums are compared at 2^(d+e) resolution
 * (widened drops d + e low bits), so a patch whose sum lies in [-2^(d+e), 0), a mean within 2^d below
 * zero, may pass, as one value in [-2^d, 0) may pass a plain ReLU.
 */
export function layerMode(mode: DreluMode, groups: readonly { ph: number; pw: number }[]): DreluMode {
  if (mode.mode === 'full' || windowOf(mode).hops === 2) return mode;
  const most = groups.reduce((m, g) => Math.max(m, extraBits(g.ph, g.pw)), 0);
  if (most === 0) return mode;
  return { ...mode, keepBits: Math.min(32, mode.dropLowBits + mode.keepBits + most) };
}

/**
 * The window of a group's sums within its layer (`groups`: all groups of the layer, default this one):
 * the layer's k' bits, starting as low as they can while reaching bit d + k + ceil(log2(ph*pw)).
 */
export function widened(mode: DreluMode, ph: number, pw: number, groups: readonly { ph: number; pw: number }[] = [{ ph, pw }]): DreluMode {
  if (mode.mode === 'full') return mode;
  const k = (layerMode(mode, groups) as { keepBits: number }).keepBits;
  const top = mode.dropLowBits + mode.keepBits + extraBits(ph, pw);
  return { ...mode, keepBits: k, dropLowBits: Math.min(62, Math.max(0, top - k)) };
}

/** Channels `cs` of an [N, C, ...] tensor (a copy, in the order given). */
function gather(x: RingTensor, cs: readonly number[]): RingTensor {
  const [N, C] = x.shape as [number, number];
  const inner = x.size / (N * C);
  const out = new BigInt64Array(N * cs.length * inner);
  for (let n = 0; n < N; n++)
    cs.forEach((c, i) => out.set(x.data.subarray((n * C + c) * inner, (n * C + c + 1) * inner), (n * cs.length + i) * inner));
  return new RingTensor(out, [N, cs.length, ...x.shape.slice(2)]);
}

/** Writes the channels of `part` ([N, cs.length, ...]) into `out` ([N, C, ...]) at channels `cs`. */
function scatter(out: BigInt64Array, shape: readonly number[], part: BigInt64Array, cs: readonly number[]): void {
  const [N, C] = shape as [number, number];
  const inner = out.length / (N * C);
  for (let n = 0; n < N; n++)
    cs.forEach((c, i) => out.set(part.subarray((n * cs.length + i) * inner, (n * cs.length + i + 1) * inner), (n * C + c) * inner));
}

/** Per-patch bytes broadcast to the pixels of each group, concatenated in group order. */
function expandBytes(p: Plan, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(p.pixels);
  let src = 0, dst = 0;
  for (const g of p.groups) {
    const PH = patchCount(p.H, g.ph), PW = patchCount(p.W, g.pw);
    for (let plane = 0; plane < p.N * g.channels.length; plane++) {
      for (let h = 0; h < p.H; h++) {
        const row = src + Math.floor(h / g.ph) * PW;
        for (let w = 0; w < p.W; w++) out[dst++] = b[row + Math.floor(w / g.pw)]!;
      }
      src += PH * PW;
    }
  }
  return out;
}

function expandRing(p: Plan, t: RingTensor): RingTensor {
  const out = new BigInt64Array(p.pixels);
  let src = 0, dst = 0;
  for (const g of p.groups) {
    const PH = patchCount(p.H, g.ph), PW = patchCount(p.W, g.pw);
    const planes = p.N * g.channels.length;
    const part = new RingTensor(t.data.slice(src, src + planes * PH * PW), [planes, PH, PW]);
    out.set(patchExpand(part, g.ph, g.pw, p.H, p.W).data, dst);
    src += planes * PH * PW;
    dst += planes * p.H * p.W;
  }
  return new RingTensor(out, [p.pixels]);
}

function concatWindows(parts: (Uint32Array | BigInt64Array)[], full: boolean, n: number): Uint32Array | BigInt64Array {
  const out = full ? new BigInt64Array(n) : new Uint32Array(n);
  let o = 0;
  for (const t of parts) {
    (out as Uint32Array).set(t as Uint32Array, o);
    o += t.length;
  }
  return out;
}

async function patchReluRun(p: Party, x: Shared, sizes: readonly PatchSize[], mode: DreluMode): Promise<Shared> {
  const P = plan(x.shape, sizes);
  return p.scope('patch-relu', async (q) => {
    const helper = q.id === HELPER;
    const out = helper ? null : new BigInt64Array(x.size);
    if (!helper) scatter(out!, x.shape, gather(x.share!, P.identity).data, P.identity);
    if (P.groups.length === 0) return new Shared(x.shape, out === null ? null : new RingTensor(out, x.shape));
    const { k, zBytes, hops } = windowOf(layerMode(mode, P.groups));
    const parts: (Uint32Array | BigInt64Array)[] = [];
    const active: RingTensor[] = [];
    if (!helper) {
      for (const g of P.groups) {
        const xg = gather(x.share!, g.channels);
        active.push(xg);
        const sums = patchSum(xg, g.ph, g.pw);
        parts.push(windowsOf(q, new Shared(sums.shape, sums), widened(mode, g.ph, g.pw, P.groups)).t!);
      }
    }
    const windows = { n: P.patches, k, zBytes, hops, t: helper ? null : concatWindows(parts, k === 64, P.patches) };
    const xActive = new Shared([P.pixels], helper ? null : RingTensor.concat(active.map((t) => t.reshape([-1])), 0));
    const r = await signTest(q, windows, [P.patches], {
      x: xActive,
      expand: { bytes: (b) => expandBytes(P, b), ring: (t) => expandRing(P, t) },
    });
    if (helper) return new Shared(x.shape, null);
    let at = 0;
    const y = r.product!.share!.data;
    for (const g of P.groups) {
      const len = P.N * g.channels.length * P.H * P.W;
      scatter(out!, x.shape, y.subarray(at, at + len), g.channels);
      at += len;
    }
    return new Shared(x.shape, new RingTensor(out!, x.shape));
  });
}

/**
 * What the secure layer computes from given shares, in the clear: the windows each party takes locally
 * from its share's patch sums, added, and their sign broadcast to the pixels. A simulation of the secure
 * arithmetic (simulateForward, the window diagnostics), not a twin: the twin is patchReluFixed.
 */
export function simulatePatchRelu(x0: RingTensor, x1: RingTensor, sizes: readonly PatchSize[], mode: DreluMode): RingTensor {
  const P = plan(x0.shape, sizes);
  const x = x0.add(x1);
  const out = new BigInt64Array(x.size);
  scatter(out, x.shape, gather(x, P.identity).data, P.identity);
  for (const g of P.groups) {
    const s0 = patchSum(gather(x0, g.channels), g.ph, g.pw), s1 = patchSum(gather(x1, g.channels), g.ph, g.pw);
    const bits = simulateDrelu(s0.reshape([-1]), s1.reshape([-1]), widened(mode, g.ph, g.pw, P.groups));
    const xg = gather(x, g.channels);
    const PH = patchCount(P.H, g.ph), PW = patchCount(P.W, g.pw);
    const mask = patchExpand(RingTensor.from(bits, [P.N * g.channels.length, PH, PW]), g.ph, g.pw, P.H, P.W);
    scatter(out, x.shape, xg.mul(mask.reshape(xg.shape)).data, g.channels);
  }
  return new RingTensor(out, x.shape);
}

/** Declared cost of one layer: the comparison on all patches plus 24 bytes per active pixel; 3 rounds. */
export function patchReluCost(shape: readonly number[], sizes: readonly PatchSize[], mode: DreluMode): Cost {
  const P = plan(shape, sizes);
  const { k, zBytes, hops } = windowOf(layerMode(mode, P.groups));
  return compareCost(P.patches, k, zBytes, P.pixels, hops);
}

/** DReLUs the layer needs (number of patches over the batch). */
export function patchReluDrelus(shape: readonly number[], sizes: readonly PatchSize[]): number {
  return plan(shape, sizes).patches;
}

interface PatchParams {
  shape: readonly number[];
  sizes: readonly PatchSize[];
  mode: DreluMode;
}

/**
 * Inputs on which the layer's signs are exact: a layer of plain ReLUs has the mode's window (exactDomain);
 * a layer with patches compares from bit 0 on min(32, d + k + e) bits, exact for values within the mode's
 * range while d + k + e <= 32 (always at small16 for patches up to 4096 pixels). Full mode: the sign of
 * the sum mod 2^64, exact for any input. Two-hop: values within the mode's range, up to twoHopTolerance.
 */
function patchDomain(o: PatchParams): Domain {
  if (o.mode.mode === 'full') return RING;
  if (windowOf(o.mode).hops === 2) {
    // The hull of exactDomain (the sliver below 0 is the tolerance's): a patch sum stays in its window.
    const D = 2n ** BigInt(o.mode.dropLowBits), half = 2n ** BigInt(o.mode.keepBits - 1);
    return [[-half * D, (half - 1n) * D - 1n]];
  }
  const P = plan(o.shape, o.sizes);
  if (layerMode(o.mode, P.groups) === o.mode) return exactDomain(o.mode);
  const h = 2n ** BigInt(o.mode.dropLowBits + o.mode.keepBits - 1);
  return [[-h, h - 1n]];
}

/**
 * What the two-hop test may do beyond the twin (layerMode): a patch of size ph x pw whose sum lies in
 * [-2^(d+e), 0), e = ceil(log2(ph pw)) (e = 0 for a plain ReLU channel), may pass whole instead of being
 * zeroed. Every other pixel is exact; in the other modes everything is.
 */
const twoHopTolerance = {
  describe: 'two-hop: a patch whose sum lies in [-2^(d+e), 0) (e = ceil(log2 of its pixels)) may pass whole',
  check(got: RingTensor, want: RingTensor, [x]: readonly RingTensor[], o: PatchParams): string | null {
    const two = o.mode.mode !== 'full' && windowOf(o.mode).hops === 2;
    const [N, C, H, W] = o.shape as [number, number, number, number];
    for (let n = 0; n < N; n++)
      for (let c = 0; c < C; c++) {
        const [sh, sw] = o.sizes[c]!, ph = Math.min(sh, H), pw = Math.min(sw, W);
        for (let h0 = 0; h0 < H; h0 += Math.max(ph, 1))
          for (let w0 = 0; w0 < W; w0 += Math.max(pw, 1)) {
            const at: number[] = [];
            for (let h = h0; h < Math.min(H, h0 + Math.max(ph, 1)); h++) for (let w = w0; w < Math.min(W, w0 + Math.max(pw, 1)); w++) at.push(((n * C + c) * H + h) * W + w);
            if (at.every((i) => got.data[i] === want.data[i])) continue;
            const where = `image ${n} channel ${c} patch at (${h0}, ${w0})`;
            if (!two || ph < 1 || pw < 1) return `${where}: ${at.map((i) => got.data[i]).join(',')} instead of ${at.map((i) => want.data[i]).join(',')}`;
            const sum = at.reduce((s, i) => s + x!.data[i]!, 0n), e = Math.ceil(Math.log2(ph * pw));
            const low = -(2n ** BigInt(o.mode.mode === 'full' ? 0 : o.mode.dropLowBits + e));
            if (!(sum >= low && sum < 0n) || !at.every((i) => got.data[i] === x!.data[i])) return `${where}: sum ${sum}, got ${at.map((i) => got.data[i]).join(',')} instead of ${at.map((i) => want.data[i]).join(',')}`;
          }
      }
    return null;
  },
};

const SMALL16: DreluMode = { mode: 'small-ring', dropLowBits: 4, keepBits: 16 };
const TWOHOP16: DreluMode = { ...SMALL16, hops: 2 };
const mixed: PatchSize[] = [[1, 1], [0, 1], [1, 0], [9, 2], [2, 3], [4, 4], [1, 1]];
const PATCH_EXAMPLES: PatchParams[] = [
  { shape: [1, 7, 7, 7], sizes: mixed, mode: { mode: 'full' } },
  { shape: [3, 7, 5, 9], sizes: mixed, mode: SMALL16 },
  { shape: [2, 7, 14, 14], sizes: mixed, mode: { mode: 'paper', dropLowBits: 4, keepBits: 16 } },
  { shape: [1, 3, 1, 1], sizes: [[2, 2], [1, 1], [0, 1]], mode: SMALL16 },
  { shape: [2, 4, 6, 6], sizes: [[1, 1], [1, 1], [1, 1], [1, 1]], mode: SMALL16 },
  { shape: [1, 3, 4, 4], sizes: [[0, 1], [0, 1], [0, 1]], mode: SMALL16 },
  { shape: [1, 2, 64, 64], sizes: [[64, 64], [16, 16]], mode: SMALL16 },
  { shape: [2, 7, 5, 9], sizes: mixed, mode: TWOHOP16 },
  { shape: [2, 4, 6, 6], sizes: [[1, 1], [1, 1], [1, 1], [1, 1]], mode: TWOHOP16 },
];

/**
 * Patch ReLU of shared x [N, C, H, W] with one patch size per channel, in a scope 'patch-relu'. Equal to
 * patchReluFixed (the exact sign of every patch sum) on patchDomain's inputs.
 * @throws {RangeError} on shape/spec mismatch; {LinkClosedError} when a peer fails
 */
export const patchRelu = protocol(patchReluRun, {
  name: 'patch-relu',
  inputs: (o: PatchParams) => [{ shape: o.shape, domain: patchDomain(o) }],
  run: (p, [x], o) => patchReluRun(p, x as Shared, o.sizes, o.mode),
  clear: ([x], o) => patchReluFixed(x!, o.sizes),
  tolerance: twoHopTolerance,
  cost: (o) => patchReluCost(o.shape, o.sizes, o.mode),
  examples: PATCH_EXAMPLES,
});

async function patchClipRun(p: Party, x: Shared, sizes: readonly PatchSize[], hi: bigint, mode: DreluMode): Promise<Shared> {
  // Plain ReLUs everywhere: min(max(x, 0), hi) from two concurrent comparisons (clip in @si/relu-protocols).
  if (sizes.every((s) => kindOf(s) === 'relu')) return clip(p, x, hi, mode);
  return p.scope('patch-clip', async (q) => {
    // min(y, hi) = y - relu(y - hi) after the patch ReLU y, pixel by pixel; a zero channel stays 0 and
    // is not compared.
    const y = await patchReluRun(q, x, sizes, mode);
    const keep = clippedChannels(sizes);
    const yk = y.map((t) => channelsAt(t, keep), [y.shape[0]!, keep.length, ...y.shape.slice(2)]);
    const over = await relu(q, sub(q, yk, fromPublic(q, yk.shape, hi)), mode);
    return sub(q, y, over.map((t) => placeChannels(t, keep, y.shape), y.shape));
  });
}

/** The channels a clip compares above: all but the zero ones. */
const clippedChannels = (sizes: readonly PatchSize[]): number[] => sizes.flatMap((s, c) => (kindOf(s) === 'zero' ? [] : [c]));

/** Channels `keep` of [N, C, H, W], as [N, keep.length, H, W] (block copies). */
function channelsAt(t: RingTensor, keep: readonly number[]): RingTensor {
  const [N, C] = t.shape as [number, number];
  const hw = t.size / (N * C);
  const out = new BigInt64Array(N * keep.length * hw);
  for (let n = 0; n < N; n++) keep.forEach((c, k) => out.set(t.data.subarray((n * C + c) * hw, (n * C + c + 1) * hw), (n * keep.length + k) * hw));
  return new RingTensor(out, [N, keep.length, ...t.shape.slice(2)]);
}

/** The inverse of channelsAt: [N, keep.length, H, W] placed into zeros of `shape`. */
function placeChannels(t: RingTensor, keep: readonly number[], shape: readonly number[]): RingTensor {
  const [N, C] = shape as [number, number];
  const hw = shapeSize(shape) / (N * C);
  const out = new BigInt64Array(shapeSize(shape));
  for (let n = 0; n < N; n++) keep.forEach((c, k) => out.set(t.data.subarray((n * keep.length + k) * hw, (n * keep.length + k + 1) * hw), (n * C + c) * hw));
  return new RingTensor(out, shape);
}

/** Declared cost of patchClip: one comparison round trip of two ReLUs at once, or the patch ReLU then a per-pixel ReLU of the non-zero channels. */
export function patchClipCost(shape: readonly number[], sizes: readonly PatchSize[], mode: DreluMode): Cost {
  if (sizes.every((s) => kindOf(s) === 'relu')) return clipCost(shapeSize(shape), mode);
  const clipped = (shapeSize(shape) / shape[1]!) * clippedChannels(sizes).length;
  return sequential(patchReluCost(shape, sizes, mode), reluCost(clipped, mode));
}

/** DReLUs a clip layer needs: its patches, and one per pixel of every channel that is not zeroed. */
export function patchClipDrelus(shape: readonly number[], sizes: readonly PatchSize[]): number {
  return patchReluDrelus(shape, sizes) + (shapeSize(shape) / shape[1]!) * clippedChannels(sizes).length;
}

interface ClipParams extends PatchParams {
  hi: bigint;
}

/**
 * Clip(x, 0, hi) with the lower bound as a patch ReLU: y = patchRelu(x), then min(y, hi) per pixel
 * (identity channels are clipped above only; zero channels stay 0), in a scope 'patch-clip'. ReLU6 is
 * hi = 6 at the fixed-point scale. A layer of plain ReLUs takes clip's two concurrent comparisons.
 */
export const patchClip = protocol(patchClipRun, {
  name: 'patch-clip',
  inputs: (o: ClipParams) => [{ shape: o.shape, domain: clipDomain(o) }],
  run: (p, [x], o) => patchClipRun(p, x as Shared, o.sizes, o.hi, o.mode),
  clear: ([x], o) => {
    const y = patchReluFixed(x!, o.sizes);
    return RingTensor.from(Array.from(y.data, (v) => (v > o.hi ? o.hi : v)), y.shape);
  },
  cost: (o) => patchClipCost(o.shape, o.sizes, o.mode),
  examples: [
    { shape: [2, 7, 5, 9], sizes: mixed, hi: 6n * 4096n, mode: SMALL16 },
    { shape: [1, 7, 4, 4], sizes: mixed, hi: 6n * 4096n, mode: { mode: 'full' } },
    { shape: [2, 3, 4, 4], sizes: [[1, 1], [1, 1], [1, 1]], hi: 6n * 4096n, mode: SMALL16 },
  ],
});

/** patchDomain without the values near hi where the upper clip's window rounds (within 2^d below hi). */
function clipDomain(o: ClipParams): Domain {
  const base = patchDomain(o);
  // Full mode: everything, cut at 0 and hi so the edge trial has -1, 0, 1, hi - 1, hi and hi + 1.
  if (o.mode.mode === 'full') return [[-(2n ** 62n), -1n], [0n, o.hi - 1n], [o.hi, 2n ** 62n]];
  const D = 2n ** BigInt(o.mode.dropLowBits);
  const out: [bigint, bigint][] = [];
  for (const [lo, hi] of base) {
    // Keep x - hi inside the window below (x >= hi - 2^(d+k-1)) and out of [hi - 2^d, hi).
    const low = lo > o.hi - 2n ** BigInt(o.mode.dropLowBits + o.mode.keepBits - 1) ? lo : o.hi - 2n ** BigInt(o.mode.dropLowBits + o.mode.keepBits - 1);
    if (low <= o.hi - D - 1n && hi >= low) out.push([low, hi < o.hi - D - 1n ? hi : o.hi - D - 1n]);
    if (hi >= o.hi) out.push([lo > o.hi ? lo : o.hi, hi]);
  }
  return out;
}
