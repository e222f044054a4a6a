/**
 * The dealer: all correlated randomness of the protocols, named by kind, with the helper's half and the
 * P0/P1 half of each kind defined together (after CrypTen's tuple provider and MP-SPDZ's preprocessing).
 *
 * Every method is called by **all three parties at the same point of the protocol**; each party does its
 * part (the helper's call of a kind it takes no part in is a no-op that keeps the count). PRF labels are
 * derived here from the calling scope and a per-scope draw counter, so a protocol never names or matches
 * a label by hand: calls in the same order give every party the same labels.
 *
 * What the helper sends, it sends to P1: P0's half always comes from the stream it shares with the
 * helper, which costs no message (CrypTen's trusted third party does the same with rank 0).
 *
 * Kinds:
 *   mask(shape, holder)       a uniform tensor known to the helper and one of P0, P1 (no message)
 *   random(shape)             m = m0 + m1 uniform, P_j holds m_j, the helper m (no message)
 *   share(shape, value)       shares of a value only the helper knows (a product of factors it knows,
 *                             a bit it learned): P0's from its stream, P1's sent (8 bytes per element)
 *   triple(op, xShape, yShape) a Beaver triple (A, B, op(A, B)) in shares (8 bytes per output element)
 *   truncPair(shape, f)       shares of a uniform r and of r >>> f (8 bytes per element)
 *   zpBits(n, bits, p)        Z_p shares of n bits the helper knows (ceil(log2 p) bits per digit; p = 67 by default)
 *   common*(…)                randomness P0 and P1 share and the helper does not know (no message)
 * and randomIn / shareIn for any group (a ShareGroup: Z_2^k words, the odd ring of ShareConvert, …).
 * @module
 */
import { addK, packedZpBytes, packZp, RingTensor, sampleZp, shapeSize, subK, subZp, unpackZp, ZP, zpSubDrawnPacked } from '@si/ring';
import type { Scope } from '@si/net';
import { messages, type Cost } from './cost.ts';
import type { Party } from './party.ts';
import type { Keystream } from './prf.ts';
import { CLIENT, HELPER, SERVER, type PartyId } from './roles.ts';

/** An additive group to deal shares in: uniform draws from a keystream, addition, subtraction, wire format. */
export interface ShareGroup<T> {
  readonly name: string;
  /** n uniform elements read from the keystream (every reader of a stream reads the same). */
  draw(ks: Keystream, n: number): T;
  add(a: T, b: T): T;
  sub(a: T, b: T): T;
  /** Bytes of n elements on the wire. */
  bytes(n: number): number;
  encode(t: T): Uint8Array | ArrayBufferView;
  /** @throws {RangeError} on a malformed message */
  decode(b: Uint8Array, n: number): T;
}

/** Z_2^64 as BigInt64Array (RingTensor data). */
export const RING64: ShareGroup<BigInt64Array> = {
  name: 'ring',
  draw: (ks, n) => RingTensor.random([n], (b) => void ks.fill(b)).data,
  add: (a, b) => new RingTensor(a, [a.length]).add(new RingTensor(b, [b.length])).data,
  sub: (a, b) => new RingTensor(a, [a.length]).sub(new RingTensor(b, [b.length])).data,
  bytes: (n) => 8 * n,
  encode: (t) => t,
  decode: (b, n) => new BigInt64Array(b.buffer, b.byteOffset, n),
};

/** Z_p digits (one per byte), ceil(log2 p) bits each on the wire: the bit shares PrivateCompare takes. */
export const zpGroup = (p: number): ShareGroup<Uint8Array> => ({
  name: p === ZP ? 'zp' : `zp${p}`,
  draw: (ks, n) => sampleZp((b) => void ks.fill(b), n, false, p),
  add: (a, b) => subZp(a, subZp(new Uint8Array(b.length), b, p), p),
  sub: (a, b) => subZp(a, b, p),
  bytes: (n) => packedZpBytes(n, p),
  encode: (t) => packZp(t, p),
  decode: (b, n) => unpackZp(b, n, p),
});

/** Z_67 digits, 7 bits each: SecureNN's 64-bit comparisons. */
export const ZP67: ShareGroup<Uint8Array> = zpGroup(ZP);

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** n-element words of Z_2^k, k <= 32, as Uint32Array; k bytes rounded up per element on the wire. */
export function wordsGroup(k: number): ShareGroup<Uint32Array> {
  if (!(Number.isInteger(k) && k >= 1 && k <= 32)) throw new RangeError(`"k" expected an integer in [1, 32], got ${k}`);
  const mask = k === 32 ? 0xffffffff : 2 ** k - 1;
  const per = Math.ceil(k / 8);
  return {
    name: `z2^${k}`,
    draw(ks, n) {
      const out = new Uint32Array(ks.bytes(4 * n).buffer);
      if (k < 32) for (let i = 0; i < n; i++) out[i] = (out[i]! & mask) >>> 0;
      return out;
    },
    add: (a, b) => addK(a, b, k),
    sub: (a, b) => subK(a, b, k),
    bytes: (n) => n * per,
    encode(t) {
      // Little-endian bytes; a typed-array copy does it where the platform is little-endian.
      if (LITTLE_ENDIAN && per !== 3) return per === 4 ? new Uint8Array(t.buffer, t.byteOffset, 4 * t.length).slice() : new Uint8Array((per === 2 ? Uint16Array : Uint8Array).from(t).buffer);
      const out = new Uint8Array(t.length * per);
      for (let i = 0; i < t.length; i++) for (let j = 0; j < per; j++) out[i * per + j] = (t[i]! >>> (8 * j)) & 0xff;
      return out;
    },
    decode(b, n) {
      let out: Uint32Array;
      if (LITTLE_ENDIAN && per !== 3) {
        const src = per === 1 ? b : per === 2 ? new Uint16Array(b.buffer, b.byteOffset, n) : new Uint32Array(b.buffer, b.byteOffset, n);
        out = Uint32Array.from(src);
      } else {
        out = new Uint32Array(n);
        for (let i = 0; i < n; i++) {
          let v = 0;
          for (let j = per - 1; j >= 0; j--) v = v * 256 + b[i * per + j]!;
          out[i] = v >>> 0;
        }
      }
      if (k % 8 !== 0) for (let i = 0; i < n; i++) if (out[i]! > mask) throw new RangeError(`element ${i} of a Z_2^${k} message is ${out[i]}, over 2^${k} - 1`);
      return out;
    },
  };
}

const counters = new WeakMap<Scope, { n: number }>();

/**
 * A dealt value P1 receives: the receive starts when the value is first awaited, not when the dealer is
 * asked. So a protocol's own messages sent before it uses the value go out first and count as an earlier
 * round, however early the helper's message arrives (the ledger counts rounds as causal depth).
 */
class Deferred<T> implements PromiseLike<T> {
  private started: Promise<T> | undefined;
  constructor(private readonly start: () => Promise<T>) {}
  then<A = T, B = never>(ok?: ((v: T) => A | PromiseLike<A>) | null, err?: ((e: unknown) => B | PromiseLike<B>) | null): PromiseLike<A | B> {
    return (this.started ??= this.start()).then(ok, err);
  }
}

/** A dealt value: at P1 its message is received when first awaited (see Deferred). */
export type Dealt<T> = PromiseLike<T>;

/** The dealer of a party's current scope. Call every method at all three parties, in the same order. */
export class Dealer {
  constructor(readonly p: Party) {}

  /** Label of the next draw: scope, draw number, kind. */
  private next(kind: string): string {
    const scope = this.p.at.origin;
    let c = counters.get(scope);
    if (!c) counters.set(scope, (c = { n: 0 }));
    return `d${c.n++}.${kind}`;
  }

  private stream(peer: PartyId, label: string): Keystream {
    return this.p.prf(peer).draw(this.p.label(label));
  }

  /**
   * Uniform elements of `group` known to the helper and `holder` (P0 or P1); null at the third party.
   * No message.
   */
  maskIn<T>(group: ShareGroup<T>, n: number, holder: typeof CLIENT | typeof SERVER): T | null {
    const label = this.next(`mask${holder}`);
    const id = this.p.id;
    if (id === HELPER) return group.draw(this.stream(holder, label), n);
    return id === holder ? group.draw(this.stream(HELPER, label), n) : null;
  }

  /** A uniform ring tensor known to the helper and `holder`; null at the third party. No message. */
  mask(shape: readonly number[], holder: typeof CLIENT | typeof SERVER): RingTensor | null {
    const m = this.maskIn(RING64, shapeSize(shape), holder);
    return m && new RingTensor(m, shape);
  }

  /**
   * A uniform m = m0 + m1 in `group`: P_j gets m_j (from its stream with the helper), the helper gets m.
   * No message.
   */
  randomIn<T>(group: ShareGroup<T>, n: number): T {
    const label = this.next(`rand.${group.name}`);
    if (this.p.id !== HELPER) return group.draw(this.stream(HELPER, label), n);
    return group.add(group.draw(this.stream(CLIENT, label), n), group.draw(this.stream(SERVER, label), n));
  }

  /** A uniform ring tensor m = m0 + m1: P_j gets m_j, the helper m. No message. */
  random(shape: readonly number[]): RingTensor {
    return new RingTensor(this.randomIn(RING64, shapeSize(shape)), shape);
  }

  /**
   * Shares in `group` of n elements only the helper knows: `value` is called at the helper only. P0's
   * share is drawn from its stream with the helper, P1's (value - P0's) is sent: group.bytes(n) bytes.
   * @returns this party's share (P1 receives it when it first awaits it); null at the helper (once sent)
   */
  shareIn<T>(group: ShareGroup<T>, n: number, value?: () => T | Promise<T>): Dealt<T | null> {
    const label = this.next(`share.${group.name}`);
    const id = this.p.id;
    if (id === CLIENT) return Promise.resolve(group.draw(this.stream(HELPER, label), n));
    const link = this.p.link(id === SERVER ? HELPER : SERVER);
    if (id === SERVER) return new Deferred(async () => group.decode(await link.recv(label, group.bytes(n)), n));
    if (value === undefined) throw new Error(`the helper must give the value it deals (${this.p.label(label)})`);
    const s0 = group.draw(this.stream(CLIENT, label), n);
    return (async () => {
      link.send(label, group.encode(group.sub(await value(), s0)));
      return null;
    })();
  }

  /** Ring shares of a tensor only the helper knows (`value` is called at the helper only); 8 bytes per element to P1. */
  share(shape: readonly number[], value?: () => RingTensor | Promise<RingTensor>): Dealt<RingTensor | null> {
    const s = this.shareIn(RING64, shapeSize(shape), value && (async () => (await value()).data));
    return { then: (ok, err) => s.then((v) => v && new RingTensor(v, shape)).then(ok, err) };
  }

  /**
   * A Beaver triple for a bilinear op: shares of uniform A (xShape), B (yShape) and of C = op(A, B)
   * (the helper gets the values). 8 bytes per element of C, to P1. C is a promise: await it only when it
   * is needed, so that what the protocol sends first does not wait for the helper (a round saved).
   */
  triple(apply: (a: RingTensor, b: RingTensor) => RingTensor, xShape: readonly number[], yShape: readonly number[], zShape: readonly number[]): { a: RingTensor; b: RingTensor; c: Dealt<RingTensor | null> } {
    const a = this.random(xShape), b = this.random(yShape);
    return { a, b, c: this.share(zShape, () => apply(a, b)) };
  }

  /**
   * A truncation pair: shares of a uniform r and of r >>> f (logical shift: r read as an unsigned
   * integer); the helper gets r. 8 bytes per element to P1 (await rf when it is needed).
   */
  truncPair(shape: readonly number[], f: number): { r: RingTensor; rf: Dealt<RingTensor | null> } {
    const r = this.random(shape);
    return { r, rf: this.share(shape, () => r.shrLogical(f)) };
  }

  /**
   * Z_p shares of n bits the helper knows (`bits`: 0/1 bytes, called at the helper only; p defaults to 67).
   * @returns P0: its digits; P1: the digits it received (packed, unpacked lazily by the caller);
   *   the helper: null. P1 receives packedZpBytes(n, p) bytes.
   */
  zpBits(n: number, bits?: () => Uint8Array | Promise<Uint8Array>, p: number = ZP): Dealt<Uint8Array | { packed: Uint8Array } | null> {
    const label = this.next('zpbits');
    const id = this.p.id;
    if (id === CLIENT) return Promise.resolve(zpGroup(p).draw(this.stream(HELPER, label), n));
    const link = this.p.link(id === SERVER ? HELPER : SERVER);
    if (id === SERVER) return new Deferred(async () => ({ packed: await link.recv(label, packedZpBytes(n, p)) }));
    if (bits === undefined) throw new Error(`the helper must give the bits it deals (${this.p.label(label)})`);
    const ks = this.stream(CLIENT, label);
    return (async () => {
      link.send(label, zpSubDrawnPacked(await bits(), (b) => void ks.fill(b), p));
      return null;
    })();
  }

  /** A keystream P0 and P1 share (for samplers); null at the helper. No message. */
  commonStream(): Keystream | null {
    const label = this.next('common');
    const id = this.p.id;
    return id === HELPER ? null : this.p.prf(id === CLIENT ? SERVER : CLIENT).draw(this.p.label(label));
  }

  /** A uniform ring tensor P0 and P1 share; null at the helper. No message. */
  commonRing(shape: readonly number[]): RingTensor | null {
    const ks = this.commonStream();
    return ks && new RingTensor(RING64.draw(ks, shapeSize(shape)), shape);
  }

  /** n uniform bits (0/1 bytes) P0 and P1 share; null at the helper. No message. */
  commonBits(n: number): Uint8Array | null {
    const ks = this.commonStream();
    if (!ks) return null;
    const raw = ks.bytes(Math.ceil(n / 8));
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = (raw[i >> 3]! >> (i & 7)) & 1;
    return out;
  }
}

/** The dealer of p's scope. */
export const dealer = (p: Party): Dealer => new Dealer(p);

/** Declared cost of the dealer's messages (all to P1), per kind. */
export const dealCost = {
  /** share / triple / truncPair on n ring elements. */
  ring: (n: number): Cost => messages([['2>1', 8 * n]]),
  /** zpBits on n bits (Z_p digits, default 67). */
  zpBits: (n: number, p: number = ZP): Cost => messages([['2>1', packedZpBytes(n, p)]]),
  /** shareIn on n elements of a group. */
  group: <T>(g: ShareGroup<T>, n: number): Cost => messages([['2>1', g.bytes(n)]]),
};
