/**
 * DReLU(x) = 1 - MSB(x) (so DReLU(0) = 1), and ReLU(x) = x * DReLU(x), by a masked comparison against
 * the helper's mask instead of SecureNN's ShareConvert + ComputeMSB:
 *
 *   1. P2 knows a random k-bit r = r0 + r1 (r0 from the P0/P2 stream, r1 from the P1/P2 stream: no
 *      message) and deals Z_67 shares of the bits of its low k-1 bits (P0's from the stream, P1's sent).
 *      P0 and P1 open z = t + r mod 2^k to each other (t is the k-bit window of x).
 *   2. With z = (z_h, z_l) and r = (r_h, r_l) split into the top bit and the k-1 low bits,
 *        MSB(t) = z_h XOR r_h XOR [r_l > z_l]   (a borrow from the low bits flips the top bit),
 *      and PrivateCompare gives P2 beta' = beta XOR [r_l > z_l] for a random beta common to P0 and P1.
 *   3. So MSB(t) = u XOR v with u = z_h XOR beta (P0, P1) and v = r_h XOR beta' (P2): a SharedBit. P2 sends
 *      P1 its share of v over Z_2^64 (P0's comes from the stream).
 * Exact for every t in Z_2^k (no precondition such as SecureNN's a != -1). Three rounds; P0 and P1 see
 * only z (uniform), P2 sees only the PrivateCompare vectors.
 *
 * Windows (the `mode`):
 *   full:        t = x, k = 64.
 *   small-ring:  t = trunc(x, d) mod 2^k, k <= 32; shares reduced locally, everything on the wire is k bits
 *                (z in ceil(k/8) bytes) except the output share (64 bits).
 *   paper:       the research code's arrangement: t = trunc(x, d) shifted to the top of the 64-bit word, so
 *                ring elements on the wire stay 64-bit and only the top k bits are compared. It computes the
 *                same bit as small-ring with the same k and d; it costs more (64-bit z).
 * trunc(x, d) is the local truncation of shared x (P0 x0 >> d, P1 -((-x1) >> d)): floor(x / 2^d) or one more.
 *
 * When the window is exact: with t = trunc(x, d), the result is [x >= 0] whenever
 *   -2^(d+k-1) <= x < -2^d   or   0 <= x < (2^(k-1) - 1) * 2^d.
 * For -2^d <= x < 0 the rounded-up truncation can give t = 0, read as non-negative (a tiny negative value
 * passes a ReLU). Outside the window the sign is that of t wrapped to k bits, i.e. arbitrary: choose d and
 * k from the activation range. (Plus local truncation's wrap error, probability about |x| / 2^64.)
 * @module
 */
import { aint, dealBitShares, packedZpBytes, reduceK, RingTensor, splitTopBits, words as ringWords } from '@si/ring';
import { CLIENT, HELPER, SERVER, Shared, type Cost, type Party } from '@si/sharing';
import { privateCompare, privateCompareCost } from './private-compare.ts';
import { bits as randomBits, source, uniformDigits, words as randomWords } from './_sample.ts';
import { bitsToRing, combineProduct, SharedBit } from './bit.ts';

export type DreluMode =
  | { mode: 'full' }
  | { mode: 'small-ring'; dropLowBits: number; keepBits: number }
  | { mode: 'paper'; dropLowBits: number; keepBits: number };

/** Exact 64-bit comparison. */
export const FULL: DreluMode = { mode: 'full' };

/** Bits compared and bytes per opened z share for a mode. */
export function windowOf(mode: DreluMode): { k: number; d: number; zBytes: number } {
  if (mode.mode === 'full') return { k: 64, d: 0, zBytes: 8 };
  if (mode.mode !== 'small-ring' && mode.mode !== 'paper')
    throw new RangeError(`"mode" expected 'full', 'small-ring' or 'paper', got ${JSON.stringify((mode as { mode: unknown }).mode)}`);
  const k = aint(mode.keepBits, 'keepBits', 2, 32);
  const d = aint(mode.dropLowBits, 'dropLowBits', 0, 62);
  return { k, d, zBytes: mode.mode === 'paper' ? 8 : Math.ceil(k / 8) };
}

/** The k-bit window of this party's share (see the module comment). */
function windowShare(p: Party, x: RingTensor, k: number, d: number): Uint32Array | BigInt64Array {
  if (k === 64) return x.data;
  const t = d === 0 ? x : p.id === CLIENT ? x.shr(d) : x.neg().shrInPlace(d).negInPlace();
  return reduceK(t, k);
}

/** Per-element k-bit values on the wire: zBytes little-endian bytes each (8 = a 64-bit word; paper mode shifts to the top). */
function encodeZ(z: Uint32Array | BigInt64Array, k: number, zBytes: number): Uint8Array {
  if (z instanceof BigInt64Array) return new Uint8Array(z.buffer, z.byteOffset, z.byteLength);
  const n = z.length, out = new Uint8Array(n * zBytes);
  if (zBytes === 8) {
    const w = new Uint32Array(out.buffer);
    // Paper mode: the k-bit value sits in the top k bits of the 64-bit element.
    for (let i = 0; i < n; i++) {
      const v = z[i]!;
      w[2 * i + 1] = (v << (32 - k)) >>> 0;
    }
    return out;
  }
  for (let i = 0; i < n; i++) {
    const v = z[i]!;
    for (let b = 0; b < zBytes; b++) out[i * zBytes + b] = (v >>> (8 * b)) & 0xff;
  }
  return out;
}

function decodeZ(raw: Uint8Array, n: number, k: number, zBytes: number, full: boolean): Uint32Array | BigInt64Array {
  if (full) return new BigInt64Array(raw.buffer, raw.byteOffset, n);
  const out = new Uint32Array(n);
  if (zBytes === 8) {
    const w = new Uint32Array(raw.buffer, raw.byteOffset, 2 * n);
    for (let i = 0; i < n; i++) out[i] = w[2 * i + 1]! >>> (32 - k);
    return out;
  }
  const mask = k === 32 ? 0xffffffff : 2 ** k - 1;
  for (let i = 0; i < n; i++) {
    let v = 0;
    for (let b = zBytes - 1; b >= 0; b--) v = v * 256 + raw[i * zBytes + b]!;
    out[i] = (v & mask) >>> 0;
  }
  return out;
}

/** a + b mod 2^k, elementwise. */
function addMod(a: Uint32Array | BigInt64Array, b: Uint32Array | BigInt64Array, k: number): Uint32Array | BigInt64Array {
  if (a instanceof BigInt64Array) return new RingTensor(a, [a.length]).add(new RingTensor(b as BigInt64Array, [a.length])).data;
  const out = new Uint32Array(a.length);
  const mask = k === 32 ? 0xffffffff : 2 ** k - 1;
  const bb = b as Uint32Array;
  for (let i = 0; i < a.length; i++) out[i] = ((a[i]! + bb[i]!) & mask) >>> 0;
  return out;
}

/** Top bit and the k-1 low bits (MSB first) of each k-bit value. */
function splitBits(z: Uint32Array | BigInt64Array, k: number): { top: Uint8Array; low: Uint8Array } {
  if (z instanceof BigInt64Array) {
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
  return splitTopBits(z, k);
}

/** The helper's mask r = r0 + r1 (mod 2^k), drawn like P0 and P1 draw their shares of it. */
function maskShare(p: Party, peer: typeof HELPER | typeof CLIENT | typeof SERVER, label: string, n: number, k: number): Uint32Array | BigInt64Array {
  const ks = p.prf(peer).draw(`${label}:r`);
  if (k === 64) return RingTensor.random([n], (b) => void ks.fill(b)).data;
  return randomWords(ks, n, k);
}

/** The k-bit windows to compare (this party's shares of them; null at the helper) and their wire size. */
export interface Windows {
  n: number;
  k: number;
  zBytes: number;
  t: Uint32Array | BigInt64Array | null;
}

/** This party's windows of x under a mode (local). */
export function windowsOf(p: Party, x: Shared, mode: DreluMode): Windows {
  const { k, d, zBytes } = windowOf(mode);
  return { n: x.size, k, zBytes, t: p.id === HELPER ? null : windowShare(p, x.share!, k, d) };
}

/**
 * A product computed in the same rounds: y = x * expand(b). `expand` maps the per-window bits to the
 * elements of x (e.g. one patch bit to every pixel of the patch); default: one bit per element.
 */
export interface Product {
  x: Shared;
  expand?: { bytes(b: Uint8Array): Uint8Array; ring(t: RingTensor): RingTensor };
}

export interface CoreResult {
  bit: SharedBit;
  product: Shared | null;
}

/**
 * The comparison core: DReLU of each window as a SharedBit (shape `shape`) and, when asked, the product
 * x * expand(DReLU) (the masked opening of x rides with z, so it costs no extra round).
 */
export async function compareWindows(p: Party, w: Windows, shape: readonly number[], product: Product | null): Promise<CoreResult> {
  const { n, k, zBytes } = w;
  const m = k - 1;
  const label = p.label('drelu');
  const full = k === 64;
  const pShape = product?.x.shape ?? [0];
  const pSize = product?.x.size ?? 0;
  if (p.id === HELPER) {
    const r = addMod(maskShare(p, CLIENT, label, n, k), maskShare(p, SERVER, label, n, k), k);
    const { top: rh, low: rl } = splitBits(r, k);
    p.link(SERVER).send('drelu.rbits', dealBitShares(rl, source(p.prf(CLIENT).draw(`${label}:rbits`))));
    const betaPrime = (await privateCompare(p, n, m))!;
    const v = rh.map((h, i) => h ^ betaPrime[i]!);
    const v1 = bitsToRing(v, [n]).subInPlace(p.prf(CLIENT).ring(`${label}:v`, [n]));
    if (product === null) {
      p.link(SERVER).send('drelu.v', v1.data);
    } else {
      const vPix = bitsToRing(product.expand ? product.expand.bytes(v) : v, pShape);
      const mask = p.prf(CLIENT).ring(`${label}:m`, pShape).addInPlace(p.prf(SERVER).ring(`${label}:m`, pShape));
      const vm1 = mask.mulInPlace(vPix).subInPlace(p.prf(CLIENT).ring(`${label}:vm`, pShape));
      p.link(SERVER).send('drelu.v', [v1.data, vm1.data]);
    }
    return { bit: new SharedBit(shape, null, null, v), product: product ? new Shared(pShape, null) : null };
  }
  const peer = p.id === CLIENT ? SERVER : CLIENT;
  const zMine = addMod(w.t!, maskShare(p, HELPER, label, n, k), k);
  const out: Uint8Array[] = [encodeZ(zMine, k, zBytes)];
  let wMine: RingTensor | null = null;
  if (product) {
    wMine = product.x.share!.add(p.prf(HELPER).ring(`${label}:m`, pShape));
    out.push(new Uint8Array(wMine.data.buffer));
  }
  const zLen = n * zBytes, wLen = 8 * pSize;
  // z goes out before the helper's digits are asked for: z does not depend on them, and the ledger's
  // round count follows the order receives are issued in.
  const theirsP = p.link(peer).exchange('drelu.z', out, zLen + wLen);
  const digitsP: Promise<Uint8Array | { packed: Uint8Array }> = p.id === CLIENT
    ? Promise.resolve(uniformDigits(p.prf(HELPER).draw(`${label}:rbits`), n * m))
    : p.link(HELPER).recv('drelu.rbits', packedZpBytes(n * m)).then((packed) => ({ packed }));
  const theirs = await theirsP;
  const z = addMod(zMine, decodeZ(theirs.subarray(0, zLen).slice(), n, k, zBytes, full), k);
  const { top: zh, low: zl } = splitBits(z, k);
  const beta = randomBits(p.prf(peer).draw(`${label}:beta`), n);
  await privateCompare(p, n, m, { x: await digitsP, r: zl, beta });
  // MSB = u XOR v with u = z_h XOR beta; DReLU = NOT MSB.
  const u = zh.map((h, i) => h ^ beta[i]! ^ 1);
  let vShare: RingTensor, vmShare: RingTensor | null = null;
  if (p.id === CLIENT) {
    vShare = p.prf(HELPER).ring(`${label}:v`, [n]);
    if (product) vmShare = p.prf(HELPER).ring(`${label}:vm`, pShape);
  } else {
    const got = await p.link(HELPER).recvI64('drelu.v', n + pSize);
    vShare = new RingTensor(got.slice(0, n), [n]);
    if (product) vmShare = new RingTensor(got.slice(n), pShape);
  }
  const bit = new SharedBit(shape, u, vShare.reshape(shape), null);
  if (!product) return { bit, product: null };
  const wAll = wMine!.addInPlace(new RingTensor(new BigInt64Array(theirs.slice(zLen).buffer), pShape));
  const e = product.expand;
  const pixBit = e ? new SharedBit(pShape, e.bytes(u), e.ring(vShare).reshape(pShape), null) : bit.reshape(pShape);
  return { bit, product: new Shared(pShape, combineProduct(pixBit, product.x.share!, wAll, vmShare!)) };
}

async function core(p: Party, x: Shared, mode: DreluMode, product: Product | null): Promise<CoreResult> {
  return compareWindows(p, windowsOf(p, x, mode), x.shape, product);
}

/** Bytes of the comparison on n windows of k bits (zBytes each on the wire), plus a fused product on `pixels` elements. */
export function compareCost(n: number, k: number, zBytes: number, pixels = 0): Cost {
  const digits = packedZpBytes(n * (k - 1));
  const pc = privateCompareCost(n, k - 1).bytes;
  if (n === 0) return { bytes: {}, rounds: 0 };
  return {
    bytes: {
      '0>1': n * zBytes + 8 * pixels, '1>0': n * zBytes + 8 * pixels, '2>1': digits + 8 * n + 8 * pixels,
      '0>2': pc['0>2']!, '1>2': pc['1>2']!,
    },
    rounds: 3,
  };
}

/**
 * DReLU(x) = [x >= 0] on the mode's window, as a SharedBit (use .toShared(p) for arithmetic shares).
 * @throws {RangeError} on a bad mode
 */
export async function drelu(p: Party, x: Shared, mode: DreluMode = FULL): Promise<SharedBit> {
  return (await core(p, x, mode, null)).bit;
}

/** MSB(x) = 1 - DReLU(x) (ComputeMSB on Z_2^64 shares, or on the window). */
export async function msb(p: Party, x: Shared, mode: DreluMode = FULL): Promise<SharedBit> {
  return (await drelu(p, x, mode)).not();
}

/** ReLU(x) = x * DReLU(x) in the same three rounds as DReLU. */
export async function relu(p: Party, x: Shared, mode: DreluMode = FULL): Promise<Shared> {
  return (await core(p, x, mode, { x })).product!;
}

/** ReLU and its DReLU bit together (the bit is needed again, e.g. by maxpool's argmax or by training). */
export async function reluWithBit(p: Party, x: Shared, mode: DreluMode = FULL): Promise<{ y: Shared; bit: SharedBit }> {
  const r = await core(p, x, mode, { x });
  return { y: r.product!, bit: r.bit };
}

/**
 * Twin, exact on given shares: the window t = trunc0(x0) + trunc1(x1) mod 2^k, DReLU = 1 iff its top bit is 0.
 */
export function dreluClear(x0: RingTensor, x1: RingTensor, mode: DreluMode = FULL): Uint8Array {
  const { k, d } = windowOf(mode);
  const x = k === 64 || d === 0 ? x0.add(x1) : x0.shr(d).add(x1.neg().shr(d).neg());
  const n = x.size;
  const out = new Uint8Array(n);
  const w = ringWords(x.data);
  for (let i = 0; i < n; i++) {
    const bit = k === 64 ? (w[2 * i + 1]! >>> 31) & 1 : k === 32 ? (w[2 * i]! >>> 31) & 1 : (w[2 * i]! >>> (k - 1)) & 1;
    out[i] = bit ^ 1;
  }
  return out;
}

/** Per-call cost of DReLU on n elements. */
export function dreluCost(n: number, mode: DreluMode = FULL): Cost {
  const { k, zBytes } = windowOf(mode);
  return compareCost(n, k, zBytes);
}

/** Per-call cost of ReLU on n elements: DReLU plus the masked x both ways and the helper's share of v*m. */
export function reluCost(n: number, mode: DreluMode = FULL): Cost {
  const { k, zBytes } = windowOf(mode);
  return compareCost(n, k, zBytes, n);
}

/** Bits per element of a cost over n elements (all parties). */
export function bitsPerElement(c: Cost, n: number): number {
  let s = 0;
  for (const v of Object.values(c.bytes)) s += v ?? 0;
  return (8 * s) / n;
}

/** The research code's DReLU traffic (paper-digest §2.11): 14 ring elements and 6 k-digit vectors at 8 bits. */
export const researchDreluBits = (k: number): number => 896 + 48 * k;

