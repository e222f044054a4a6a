/**
 * Pairwise PRF streams: AES-128-CTR keyed per pair of parties (crypto.ts). Every draw is domain
 * separated: its IV is SHA-256("si/1/prf" ‖ label ‖ 0 ‖ counter) truncated to 128 bits, where the
 * counter counts earlier draws with the same label. Both holders of a stream make the same draws with
 * the same labels, so they read the same bytes; nobody else can.
 * @module
 */
import { aesCtrKeystream, aesKey, sha256, type AesKey } from './crypto.ts';
import { RingTensor } from '@si/ring';

const DOMAIN = 'si/1/prf';
const CHUNK = 1 << 16;

/** One draw's keystream, read incrementally (e.g. for rejection sampling). */
export class Keystream {
  constructor(private readonly next: (n: number) => Uint8Array) {}

  /** Fills `out` with the next keystream bytes. */
  fill(out: Uint8Array): Uint8Array {
    for (let o = 0; o < out.length; o += CHUNK) out.set(this.next(Math.min(CHUNK, out.length - o)), o);
    return out;
  }

  bytes(n: number): Uint8Array {
    return this.fill(new Uint8Array(n));
  }
}

export class PrfStream {
  private readonly counters = new Map<string, number>();
  /** The AES key (a KeyObject in Node) in a private field: printing, inspecting or serialising the stream shows no key bytes. */
  readonly #key: AesKey;

  /**
   * @param key - 16-byte AES key agreed by the two holders (copied into a KeyObject; the caller may wipe it)
   * @param name - which pair holds it, e.g. 'prf01', for messages
   */
  constructor(key: Uint8Array, readonly name: string) {
    if (!(key instanceof Uint8Array) || key.length !== 16) throw new RangeError(`"key" of ${name} expected 16 bytes`);
    this.#key = aesKey(key);
  }

  /** A fresh keystream for `label` (the n-th draw with this label gets counter n). */
  draw(label: string): Keystream {
    const c = this.counters.get(label) ?? 0;
    this.counters.set(label, c + 1);
    const ctr = new Uint8Array(8);
    new DataView(ctr.buffer).setBigUint64(0, BigInt(c));
    const iv = sha256(DOMAIN, label, Uint8Array.of(0), ctr).subarray(0, 16);
    return new Keystream(aesCtrKeystream(this.#key, iv));
  }

  /** n uniformly random bytes. */
  bytes(label: string, n: number): Uint8Array {
    return this.draw(label).bytes(n);
  }

  /** A tensor of uniformly random ring elements. */
  ring(label: string, shape: readonly number[]): RingTensor {
    const ks = this.draw(label);
    return RingTensor.random(shape, (b) => void ks.fill(b));
  }

  /** n uniformly random bits (0/1 bytes). */
  bits(label: string, n: number): Uint8Array {
    const raw = this.bytes(label, Math.ceil(n / 8));
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = (raw[i >> 3]! >> (i & 7)) & 1;
    return out;
  }
}
