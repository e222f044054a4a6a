/**
 * DReLU(x) = 1 - MSB(x) (so DReLU(0) = 1), and ReLU(x) = x * DReLU(x), by a masked comparison against
 * the helper's mask instead of SecureNN's ShareConvert + ComputeMSB:
 *
 *   1. The dealer gives P0 and P1 shares of a random k-bit r = r0 + r1 (the helper knows r) and Z_p shares
 *      of the bits of its low k-1 bits (p = pcPrime(k - 1): 17 at k = 16, 67 at k = 64). P0 and P1 open
 *      z = t + r mod 2^k to each other (t is the k-bit window of x).
 *   2. With z = (z_h, z_l) and r = (r_h, r_l) split into the top bit and the k-1 low bits,
 *        MSB(t) = z_h XOR r_h XOR [r_l > z_l]   (a borrow from the low bits flips the top bit),
 *      and PrivateCompare gives P2 beta' = beta XOR [r_l > z_l] for a random beta common to P0 and P1.
 *   3. So MSB(t) = u XOR v with u = z_h XOR beta (P0, P1) and v = r_h XOR beta' (P2): a SharedBit. The
 *      dealer shares v over Z_2^64 (P0's from its stream, P1's sent).
 * Exact for every t in Z_2^k (no precondition such as SecureNN's a != -1). Three rounds; P0 and P1 see
 * only z (uniform), P2 sees only the PrivateCompare vectors.
 *
 * A product y = x * expand(DReLU) rides along in the same three rounds (signTest's `product`): P0 and P1
 * open w = x + m with z (m = m0 + m1 from the dealer), the helper deals v * m, and
 *   x * b = u x + (1 - 2u)(v w - v m)   (mulBit's identity, on w instead of a separate round).
 *
 * Windows (the `mode`):
 *   full:        t = x, k = 64.
 *   small-ring:  t = trunc(x, d) mod 2^k, k <= 32; shares reduced locally, everything on the wire is k bits
 *                (z in ceil(k/8) bytes) except the output share (64 bits).
 *   paper:       the research code's arrangement: t = trunc(x, d) shifted to the top of the 64-bit word, so
 *                ring elements on the wire stay 64-bit and only the top k bits are compared. It computes the
 *                same bit as small-ring with the same k and d; it costs more (64-bit z).
 * trunc(x, d) is the local truncation of shared x (truncateShare: P0 x0 >> d, P1 -((-x1) >> d)): floor(x / 2^d)
 * or one more.
 *
 * When the window is exact (exactDomain): with t = trunc(x, d), the result is [x >= 0] whenever
 *   -2^(d+k-1) <= x < -2^d   or   0 <= x < (2^(k-1) - 1) * 2^d.
 * For -2^d <= x < 0 the rounded-up truncation can give t = 0, read as non-negative (a tiny negative value
 * passes a ReLU). Outside the window the sign is that of t wrapped to k bits, i.e. arbitrary: choose d and
 * k from the activation range. (Plus local truncation's wrap error, probability about |x| / 2^64.)
 * @module
 */
import { aint, carryPackedBytes, packedZpBytes, pcPrime, reduceK, RingTensor, shapeSize, splitTopBits, words as ringWords } from '@si/ring';
import {
  bitsToRing, CLIENT, dealer, HELPER, messages, NO_COST, protocol, RING64, SERVER, Shared, SharedBit, truncateShare, wordsGroup, type Cost, type Domain, type Party, type ShareGroup,
} from '@si/sharing';
import { combineProduct } from './bit.ts';
import { carryCompare } from './carry-compare.ts';
import { privateCompare } from './private-compare.ts';

export type DreluMode =
  | { mode: 'full' }
  | { mode: 'small-ring'; dropLowBits: number; keepBits: number; hops?: 2 | 3 }
  | { mode: 'paper'; dropLowBits: number; keepBits: number };

/** Exact 64-bit comparison. */
export const FULL: DreluMode = { mode: 'full' };

/**
 * Bits compared, bytes per opened z share and online hops of a mode's sign test (3: z opened between P0
 * and P1, then PrivateCompare; 2: the carry comparison, small-ring only, k <= 31).
 * @throws {RangeError} on a bad mode
 */
export function windowOf(mode: DreluMode): { k: number; d: number; zBytes: number; hops: 2 | 3 } {
  if (mode.mode === 'full') return { k: 64, d: 0, zBytes: 8, hops: 3 };
  if (mode.mode !== 'small-ring' && mode.mode !== 'paper')
    throw new RangeError(`"mode" expected 'full', 'small-ring' or 'paper', got ${JSON.stringify((mode as { mode: unknown }).mode)}`);
  const two = mode.mode === 'small-ring' && mode.hops === 2;
  if (mode.mode === 'small-ring' && mode.hops !== undefined && mode.hops !== 2 && mode.hops !== 3) throw new RangeError(`"hops" expected 2 or 3, got ${mode.hops}`);
  const k = aint(mode.keepBits, 'keepBits', 2, two ? 31 : 32);
  const d = aint(mode.dropLowBits, 'dropLowBits', 0, 62);
  return { k, d, zBytes: two ? 0 : mode.mode === 'paper' ? 8 : Math.ceil(k / 8), hops: two ? 2 : 3 };
}

/**
 * The inputs on which the mode's sign is exactly [x >= 0] (see the module comment):
 * [-2^(d+k-1), -2^d - 1] and [0, (2^(k-1) - 1) 2^d - 1]; every ring element in full mode.
 */
export function exactDomain(mode: DreluMode): Domain {
  const { k, d } = windowOf(mode);
  if (k === 64) return [[-(2n ** 63n), 2n ** 63n - 1n]];
  const D = 2n ** BigInt(d), half = 2n ** BigInt(k - 1);
  return [[-half * D, -D - 1n], [0n, (half - 1n) * D - 1n]];
}

/**
 * Inputs whose pairwise differences stay inside the mode's window: half of it each way (comparisons of
 * two values, max pooling and argmax compare differences, which span twice the range of the values).
 */
export function differenceDomain(mode: DreluMode): Domain {
  const { k, d } = windowOf(mode);
  if (k === 64) return [[-(2n ** 62n), 2n ** 62n - 1n]];
  const h = 2n ** BigInt(d + k - 2);
  return [[-h, h - 2n ** BigInt(d)]];
}

/** The k-bit windows to compare (this party's shares of them; null at the helper), their wire size and the test's hops. */
export interface Windows {
  n: number;
  k: number;
  zBytes: number;
  t: Uint32Array | BigInt64Array | null;
  hops?: 2 | 3;
}

/** This party's windows of x under a mode (local). */
export function windowsOf(p: Party, x: Shared, mode: DreluMode): Windows {
  const { k, d, zBytes, hops } = windowOf(mode);
  if (p.id === HELPER) return { n: x.size, k, zBytes, t: null, hops };
  return { n: x.size, k, zBytes, t: k === 64 ? x.share!.data : reduceK(truncateShare(x.share!, d, p.id as 0 | 1), k), hops };
}

/** Per-element k-bit values on the wire: zBytes little-endian bytes each (8 = a 64-bit word; paper mode shifts to the top). */
function encodeZ(z: Uint32Array | BigInt64Array, k: number, zBytes: number): Uint8Array {
  if (z instanceof BigInt64Array) return new Uint8Array(z.buffer, z.byteOffset, z.byteLength);
  if (zBytes !== 8) return wordsGroup(k).encode(z) as Uint8Array;
  // Paper mode: the k-bit value sits in the top k bits of the 64-bit element.
  const out = new Uint8Array(z.length * 8), w = new Uint32Array(out.buffer);
  for (let i = 0; i < z.length; i++) w[2 * i + 1] = (z[i]! << (32 - k)) >>> 0;
  return out;
}

function decodeZ(raw: Uint8Array, n: number, k: number, zBytes: number): Uint32Array | BigInt64Array {
  if (k === 64) return new BigInt64Array(raw.buffer, raw.byteOffset, n).slice();
  if (zBytes !== 8) return wordsGroup(k).decode(raw, n);
  const out = new Uint32Array(n), w = new Uint32Array(raw.buffer, raw.byteOffset, 2 * n);
  for (let i = 0; i < n; i++) out[i] = w[2 * i + 1]! >>> (32 - k);
  return out;
}

/** Top bit and the k-1 low bits (MSB first) of each k-bit value (k = 64: of each ring element). */
function splitBits(z: Uint32Array | BigInt64Array, k: number): { top: Uint8Array; low: Uint8Array } {
  if (!(z instanceof BigInt64Array)) return splitTopBits(z, k);
  const n = z.length, m = k - 1;
  const top = new Uint8Array(n), low = new Uint8Array(n * m);
  const w = ringWords(z);
  for (let i = 0; i < n; i++) {
    const lo = w[2 * i]!, hi = w[2 * i + 1]!;
    top[i] = (hi >>> 31) & 1;
    let o = i * m;
    for (let b = 62; b >= 32; b--) low[o++] = (hi >>> (b - 32)) & 1;
    for (let b = 31; b >= 0; b--) low[o++] = (lo >>> b) & 1;
  }
  return { top, low };
}

type Words = Uint32Array | BigInt64Array;
/** Z_2^64 for full mode, Z_2^k words otherwise. */
const groupOf = (k: number): ShareGroup<Words> => (k === 64 ? RING64 : wordsGroup(k)) as ShareGroup<Words>;
const addMod = (a: Words, b: Words, k: number): Words => groupOf(k).add(a, b);

/**
 * A product computed in the same rounds as the sign test: y = x * expand(b). `expand` maps the
 * per-window bits to the elements of x (e.g. one patch bit to every pixel of the patch); default: one bit
 * per element.
 */
export interface Product {
  x: Shared;
  expand?: { bytes(b: Uint8Array): Uint8Array; ring(t: RingTensor): RingTensor };
}

function signTestRun(p: Party, w: Windows, shape: readonly number[], product?: Product): Promise<{ bit: SharedBit; product: Shared | null }> {
  if (w.hops === 2) return signTestTwoHop(p, w, shape, product);
  return p.scope('drelu', async (q) => {
    const { n, k, zBytes } = w;
    const m = k - 1;
    const pShape = product?.x.shape ?? [0];
    const d = dealer(q);
    const r = d.randomIn(groupOf(k), n); // the helper: r; P_j: r_j
    const rSplit = q.id === HELPER ? splitBits(r, k) : null;
    const rbits = d.zpBits(n * m, () => rSplit!.low, pcPrime(m));
    const mask = product ? d.random(pShape) : null; // m = m0 + m1
    const beta = d.commonBits(n);
    let betaPrime: Uint8Array | null = null, zSplit: { top: Uint8Array; low: Uint8Array } | null = null, theirs: Uint8Array | null = null, wMine: RingTensor | null = null;
    if (q.id === HELPER) betaPrime = await privateCompare(q, n, m);
    else {
      const zMine = addMod(w.t!, r, k);
      const out: Uint8Array[] = [encodeZ(zMine, k, zBytes)];
      if (product) out.push(new Uint8Array((wMine = product.x.share!.add(mask!)).data.buffer));
      theirs = await q.link(q.id === CLIENT ? SERVER : CLIENT).exchange('z', out, n * zBytes + (product ? 8 * product.x.size : 0));
      zSplit = splitBits(addMod(zMine, decodeZ(theirs.subarray(0, n * zBytes), n, k, zBytes), k), k);
      await privateCompare(q, n, m, { x: (await rbits)!, r: zSplit.low, beta: beta! });
    }
    // v = r_h XOR beta' (the helper's part of MSB), and v * m for the product, dealt in shares.
    const v = betaPrime && rSplit!.top.map((h, i) => h ^ betaPrime![i]!);
    // MSB = u XOR v with u = z_h XOR beta; DReLU = NOT MSB.
    return dealSign(q, d, shape, product, mask, v, () => zSplit!.top.map((h, i) => h ^ beta![i]! ^ 1),
      () => wMine!.addInPlace(new RingTensor(new BigInt64Array(theirs!.slice(n * zBytes).buffer), pShape)));
  });
}

/**
 * The end both sign tests share: the helper deals v (its part of DReLU = u XOR v; `v` at the helper) and,
 * for the product, v * m in shares; P0 and P1 form the bit from their common u and the product from
 * w = x + m, both halves (wAll; mulBit's identity).
 */
async function dealSign(
  q: Party, d: ReturnType<typeof dealer>, shape: readonly number[], product: Product | undefined, mask: RingTensor | null, v: Uint8Array | null,
  u: () => Uint8Array, wAll: () => RingTensor,
): Promise<{ bit: SharedBit; product: Shared | null }> {
  const n = shapeSize(shape), pShape = product?.x.shape ?? [0];
  const vShare = d.share([n], () => bitsToRing(v!, [n]));
  const vmShare = product ? d.share(pShape, () => mask!.mul(bitsToRing(product.expand ? product.expand.bytes(v!) : v!, pShape))) : null;
  if (q.id === HELPER) {
    await Promise.all([vShare, vmShare]);
    return { bit: new SharedBit(shape, null, null, v), product: product ? new Shared(pShape, null) : null };
  }
  const uj = u(), vj = (await vShare)!;
  const bit = new SharedBit(shape, uj, vj.reshape(shape), null);
  if (!product) return { bit, product: null };
  const e = product.expand;
  const pixBit = e ? new SharedBit(pShape, e.bytes(uj), e.ring(vj).reshape(pShape), null) : bit.reshape(pShape);
  return { bit, product: new Shared(pShape, combineProduct(pixBit, product.x.share!, wAll(), (await vmShare)!)) };
}

/**
 * The two-hop sign test: MSB(t) = h0 XOR h1 XOR [a + b >= 2^(k-1)] for the shares t0 = (h0, a) and
 * t1 = (h1, b) (top bit, k-1 low bits). In one hop P0 and P1 send the helper their carry-comparison digits
 * (carry-compare.ts: it learns beta XOR carry) and h_j XOR g_j (g0, g1 common random bits), and exchange
 * w = x + m for the product; the helper then has v = MSB XOR (beta XOR g0 XOR g1) and deals it (and v * m)
 * as in the three-hop test: DReLU = u XOR v with u = 1 XOR beta XOR g0 XOR g1. Second hop: v's share to P1.
 */
function signTestTwoHop(p: Party, w: Windows, shape: readonly number[], product?: Product): Promise<{ bit: SharedBit; product: Shared | null }> {
  return p.scope('drelu2', async (q) => {
    const { n, k } = w;
    const m = k - 1;
    const pShape = product?.x.shape ?? [0];
    const d = dealer(q);
    const mask = product ? d.random(pShape) : null;
    const [beta, g0, g1] = [d.commonBits(n), d.commonBits(n), d.commonBits(n)];
    const flipBytes = Math.ceil(n / 8);
    let v: Uint8Array | null = null, theirs: Uint8Array | null = null, wMine: RingTensor | null = null;
    if (q.id === HELPER) {
      const [o, f0, f1] = await Promise.all([carryCompare(q, n, m), q.link(CLIENT).recv('h', flipBytes), q.link(SERVER).recv('h', flipBytes)]);
      v = o!.map((b, i) => b ^ ((f0[i >> 3]! ^ f1[i >> 3]!) >> (i & 7)) & 1);
    } else {
      const t = w.t as Uint32Array, j = q.id as 0 | 1, low = 2 ** m - 1;
      const a = new Uint32Array(n), flips = new Uint8Array(flipBytes), g = j === 0 ? g0! : g1!;
      for (let i = 0; i < n; i++) {
        a[i] = t[i]! & low;
        flips[i >> 3] = flips[i >> 3]! | (((t[i]! >>> m) ^ g[i]!) << (i & 7));
      }
      const sent = carryCompare(q, n, m, { v: a, beta: beta! });
      q.link(HELPER).send('h', flips);
      if (product) theirs = await q.link(j === CLIENT ? SERVER : CLIENT).exchange('w', [new Uint8Array((wMine = product.x.share!.add(mask!)).data.buffer)], 8 * product.x.size);
      await sent;
    }
    return dealSign(q, d, shape, product, mask, v, () => beta!.map((b, i) => b ^ g0![i]! ^ g1![i]! ^ 1),
      () => wMine!.addInPlace(new RingTensor(new BigInt64Array(theirs!.slice().buffer), pShape)));
  });
}

/** Bytes of the two-hop sign test on n windows of k bits, plus a product on `pixels` elements. */
function twoHopCost(n: number, k: number, pixels: number): Cost {
  const c = carryPackedBytes(n, k - 1) + Math.ceil(n / 8);
  return messages([
    ['0>2', c], // 0: P0's carry digits and h0 XOR g0
    ['1>2', c], // 1: P1's ...
    ...(pixels ? [['0>1', 8 * pixels] as const, ['1>0', 8 * pixels] as const] : []), // w = x + m both ways
    ['2>1', 8 * n, 0, 1], // P1's share of v, once the helper has both messages
    ...(pixels ? [['2>1', 8 * pixels, 0, 1] as const] : []), // P1's share of v * m
  ]);
}

/**
 * Bytes of the sign test on n windows of k bits (zBytes each on the wire), plus a product on `pixels`
 * elements; `hops` 2 for the two-hop test (windowOf's hops).
 */
export function compareCost(n: number, k: number, zBytes: number, pixels = 0, hops: 2 | 3 = 3): Cost {
  if (n === 0) return NO_COST;
  if (hops === 2) return twoHopCost(n, k, pixels);
  const pc = packedZpBytes(n * (k - 1), pcPrime(k - 1));
  const z = n * zBytes + 8 * pixels;
  return messages([
    ['0>1', z], // 0: z (and w = x + m) from P0
    ['1>0', z], // 1: ... and from P1
    ['2>1', pc], // 2: P1's Z_p shares of r's bits
    ['0>2', pc, 1], // 3: P0's PrivateCompare vector, once it has z
    ['1>2', pc, 0, 2], // 4: P1's, once it has z and its bit shares
    ['2>1', 8 * n, 3, 4], // 5: P1's share of v, once the helper has both vectors
    ...(pixels ? [['2>1', 8 * pixels, 3, 4] as const] : []), // 6: P1's share of v * m
  ]);
}

/** Per-call cost of DReLU on n elements. */
export function dreluCost(n: number, mode: DreluMode = FULL): Cost {
  const { k, zBytes, hops } = windowOf(mode);
  return compareCost(n, k, zBytes, 0, hops);
}

/** Per-call cost of ReLU on n elements: DReLU plus the masked x both ways and the helper's share of v*m. */
export function reluCost(n: number, mode: DreluMode = FULL): Cost {
  const { k, zBytes, hops } = windowOf(mode);
  return compareCost(n, k, zBytes, n, hops);
}

async function dreluRun(p: Party, x: Shared, mode: DreluMode = FULL): Promise<SharedBit> {
  return (await signTestRun(p, windowsOf(p, x, mode), x.shape)).bit;
}

async function reluRun(p: Party, x: Shared, mode: DreluMode = FULL): Promise<Shared> {
  return (await signTestRun(p, windowsOf(p, x, mode), x.shape, { x })).product!;
}

interface SignParams {
  shape: readonly number[];
  mode: DreluMode;
}

const MODES: DreluMode[] = [
  FULL,
  { mode: 'small-ring', dropLowBits: 4, keepBits: 16 },
  { mode: 'small-ring', dropLowBits: 0, keepBits: 8 },
  { mode: 'small-ring', dropLowBits: 12, keepBits: 32 },
  { mode: 'paper', dropLowBits: 4, keepBits: 16 },
  { mode: 'small-ring', dropLowBits: 2, keepBits: 2 },
  { mode: 'small-ring', dropLowBits: 4, keepBits: 16, hops: 2 },
  { mode: 'small-ring', dropLowBits: 0, keepBits: 31, hops: 2 },
  { mode: 'small-ring', dropLowBits: 1, keepBits: 2, hops: 2 },
];
const signExamples: SignParams[] = MODES.map((mode, i) => ({ shape: i === 0 ? [3, 67] : [150], mode }));

/**
 * What a sign test computes from given shares, in the clear: NOT the top bit of the k-bit window
 * trunc0(x0) + trunc1(x1) mod 2^k (0/1 per element). Outside exactDomain it shows the window's wrap and
 * rounding. For simulations of a secure run (and the window diagnostics); the twin is isNonNegative.
 */
export function simulateDrelu(x0: RingTensor, x1: RingTensor, mode: DreluMode): Uint8Array {
  const { k, d } = windowOf(mode);
  const t = k === 64 ? x0.add(x1) : truncateShare(x0, d, 0).add(truncateShare(x1, d, 1));
  const w = ringWords(t.data);
  const out = new Uint8Array(t.size);
  for (let i = 0; i < out.length; i++) {
    const bit = k === 64 ? (w[2 * i + 1]! >>> 31) & 1 : k === 32 ? (w[2 * i]! >>> 31) & 1 : (w[2 * i]! >>> (k - 1)) & 1;
    out[i] = bit ^ 1;
  }
  return out;
}

/** [x >= 0] on values, as a ring tensor of 0/1: the independent twin of every sign test here. */
export const isNonNegative = (x: RingTensor): RingTensor => RingTensor.from(Array.from(x.data, (v) => (v >= 0n ? 1 : 0)), x.shape);

/**
 * DReLU(x) = [x >= 0] on the mode's window, as a SharedBit (use .toShared(p) for arithmetic shares), in
 * a scope 'drelu'. Exact on exactDomain(mode).
 * @throws {RangeError} on a bad mode
 */
export const drelu = protocol(dreluRun, {
  name: 'drelu',
  inputs: (o: SignParams) => [{ shape: o.shape, domain: exactDomain(o.mode) }],
  run: (p, [x], o) => dreluRun(p, x as Shared, o.mode),
  clear: ([x]) => isNonNegative(x!),
  cost: (o) => dreluCost(shapeSize(o.shape), o.mode),
  examples: signExamples,
});

/** MSB(x) = [x < 0] = NOT DReLU(x). */
export const msb = protocol(async (p: Party, x: Shared, mode: DreluMode = FULL): Promise<SharedBit> => (await dreluRun(p, x, mode)).not(), {
  name: 'msb',
  inputs: (o: SignParams) => [{ shape: o.shape, domain: exactDomain(o.mode) }],
  run: async (p, [x], o) => (await dreluRun(p, x as Shared, o.mode)).not(),
  clear: ([x]) => RingTensor.from(Array.from(x!.data, (v) => (v < 0n ? 1 : 0)), x!.shape),
  cost: (o) => dreluCost(shapeSize(o.shape), o.mode),
  examples: signExamples.slice(0, 2),
});

/** ReLU(x) = x * DReLU(x) in the same three rounds as DReLU, in a scope 'drelu'. Exact on exactDomain(mode). */
export const relu = protocol(reluRun, {
  name: 'relu',
  inputs: (o: SignParams) => [{ shape: o.shape, domain: exactDomain(o.mode) }],
  run: (p, [x], o) => reluRun(p, x as Shared, o.mode),
  clear: ([x]) => RingTensor.from(Array.from(x!.data, (v) => (v >= 0n ? v : 0n)), x!.shape),
  cost: (o) => reluCost(shapeSize(o.shape), o.mode),
  examples: signExamples,
});

/**
 * The sign test on windows, in a scope 'drelu': DReLU of each window as a SharedBit (shape `shape`) and,
 * when asked, the product x * expand(DReLU) in the same three rounds (the core of drelu, relu, the patch
 * ReLU, max and argmax). Its record checks it on windowsOf(x), with x as the product when `times`.
 */
export const signTest = protocol(signTestRun, {
  name: 'sign-test',
  inputs: (o: SignParams & { times: boolean }) => [{ shape: o.shape, domain: exactDomain(o.mode) }],
  async run(p, [x], o) {
    const r = await signTestRun(p, windowsOf(p, x as Shared, o.mode), (x as Shared).shape, o.times ? { x: x as Shared } : undefined);
    return o.times ? r.product! : r.bit;
  },
  clear: ([x], o) => (o.times ? RingTensor.from(Array.from(x!.data, (v) => (v >= 0n ? v : 0n)), x!.shape) : isNonNegative(x!)),
  cost: (o) => {
    const { k, zBytes, hops } = windowOf(o.mode);
    return compareCost(shapeSize(o.shape), k, zBytes, o.times ? shapeSize(o.shape) : 0, hops);
  },
  examples: [{ ...signExamples[1]!, times: true }, { ...signExamples[0]!, times: false }, { ...signExamples[6]!, times: true }, { ...signExamples[8]!, times: false }],
});

/** Bits per element of a cost over n elements (all parties). */
export function bitsPerElement(c: Cost, n: number): number {
  let s = 0;
  for (const v of Object.values(c.bytes)) s += v ?? 0;
  return (8 * s) / n;
}

/** The research code's DReLU traffic (paper-digest §2.11): 14 ring elements and 6 k-digit vectors at 8 bits. */
export const researchDreluBits = (k: number): number => 896 + 48 * k;
