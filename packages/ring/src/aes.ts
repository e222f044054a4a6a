/**
 * AES-128-CTR keystreams on the wasm kernels (T-tables, asm/aes.ts), for platforms without OpenSSL's AES
 * (the browser client's PRF). The same bytes as node:crypto's aes-128-ctr (test/aes.test.ts). Table
 * lookups depend on the key and counter, as in any table-based AES: keystreams of the PRF are computed by
 * both holders of the key alike, and a page shares its cores with nobody in the protocol.
 * @module
 */
import { alloc, copyInBytes, heap, kernels, scoped } from './_wasm.ts';

const SBOX = new Uint8Array(256);
const TE = new Uint32Array(1024);
{
  // The S-box from the multiplicative inverse in GF(2^8) and the affine map (FIPS-197 5.1.1).
  let p = 1, q = 1;
  do {
    p = p ^ ((p << 1) & 0xff) ^ (p & 0x80 ? 0x1b : 0);
    q ^= q << 1; q ^= q << 2; q ^= q << 4; q &= 0xff;
    if (q & 0x80) q ^= 0x09;
    const x = q ^ ((q << 1) | (q >> 7)) ^ ((q << 2) | (q >> 6)) ^ ((q << 3) | (q >> 5)) ^ ((q << 4) | (q >> 4));
    SBOX[p] = (x ^ 0x63) & 0xff;
  } while (p !== 1);
  SBOX[0] = 0x63;
  const x2 = (v: number) => ((v << 1) ^ (v & 0x80 ? 0x11b : 0)) & 0xff;
  for (let x = 0; x < 256; x++) {
    const s = SBOX[x]!, w = ((x2(s) << 24) | (s << 16) | (s << 8) | (x2(s) ^ s)) >>> 0;
    for (let k = 0; k < 4; k++) TE[k * 256 + x] = ((w >>> (8 * k)) | (w << (32 - 8 * k))) >>> 0;
  }
}

/** The 44 round-key words of an AES-128 key (FIPS-197 5.2). */
function expandKey(key: Uint8Array): Uint32Array {
  if (key.length !== 16) throw new RangeError(`AES-128 needs a 16-byte key, got ${key.length}`);
  const w = new Uint32Array(44);
  for (let i = 0; i < 4; i++) w[i] = ((key[4 * i]! << 24) | (key[4 * i + 1]! << 16) | (key[4 * i + 2]! << 8) | key[4 * i + 3]!) >>> 0;
  let rcon = 1;
  for (let i = 4; i < 44; i++) {
    let t = w[i - 1]!;
    if (i % 4 === 0) {
      t = ((SBOX[(t >>> 16) & 255]! << 24) | (SBOX[(t >>> 8) & 255]! << 16) | (SBOX[t & 255]! << 8) | SBOX[t >>> 24]!) >>> 0;
      t = (t ^ (rcon << 24)) >>> 0;
      rcon = ((rcon << 1) ^ (rcon & 0x80 ? 0x11b : 0)) & 0xff;
    }
    w[i] = (w[i - 4]! ^ t) >>> 0;
  }
  return w;
}

const bytesOf = (w: Uint32Array): Uint8Array => new Uint8Array(w.buffer, w.byteOffset, w.byteLength);

/**
 * The AES-128-CTR keystream of `key` from the 16-byte big-endian counter block `iv`, read in order in
 * pieces of any size.
 */
export function aesCtrStream(key: Uint8Array, iv: Uint8Array): (n: number) => Uint8Array {
  if (iv.length !== 16) throw new RangeError(`the counter block is 16 bytes, got ${iv.length}`);
  const rk = expandKey(key), ctr = Uint8Array.from(iv);
  let spare = new Uint8Array(0); // keystream bytes of the last block not yet read
  return (n) => {
    const out = new Uint8Array(n);
    const take = Math.min(n, spare.length);
    out.set(spare.subarray(0, take));
    spare = spare.subarray(take);
    const rest = n - take;
    if (rest === 0) return out;
    const blocks = Math.ceil(rest / 16);
    scoped(() => {
      const pRk = copyInBytes(bytesOf(rk)), pTe = copyInBytes(bytesOf(TE)), pCtr = copyInBytes(ctr), pOut = alloc(blocks * 16);
      kernels.aesCtr128(pOut, blocks, pRk, pTe, pCtr);
      const h = heap().u8;
      out.set(h.subarray(pOut, pOut + rest), take);
      spare = h.slice(pOut + rest, pOut + blocks * 16);
      ctr.set(h.subarray(pCtr, pCtr + 16));
    });
    return out;
  };
}
