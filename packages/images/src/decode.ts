/**
 * PNG and JPEG decoding in plain JavaScript (pngjs, jpeg-js): no native binary, so it installs anywhere
 * npm does; the browser client decodes with the page's own canvas instead. A 640 x 480 photo decodes in
 * about 25-35 ms (sharp's libvips: 5-11 ms), next to seconds of secure inference.
 *
 * - PNG: every colour type and bit depth pngjs reads (1-16 bits, palette, grey, grey + alpha, RGB, RGBA);
 *   16-bit images keep their 16 bits. Grey files decode to one channel, the others to three; alpha is
 *   dropped (see preprocess).
 * - JPEG: baseline and progressive, decoded strictly (a truncated or corrupt file is an error, not a
 *   partly grey picture); always three channels (a grey JPEG has R = G = B); CMYK converted to RGB.
 * - WebP and other formats are refused by name.
 * @module
 */
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import ndarray from 'ndarray';
import { ImageError, type Pixels } from './preprocess.ts';

export interface Decoded {
  format: 'png' | 'jpeg';
  /** [H, W, C] with C = 1 (grey) or 3 (colour), a view on the decoder's RGBA or RGB buffer. */
  pixels: Pixels;
  /** Bits per sample: 8 or 16. */
  depth: 8 | 16;
}

const LIMITS = { maxResolutionInMP: 100, maxMemoryUsageInMB: 1024 };

function formatOf(b: Uint8Array): 'png' | 'jpeg' | string {
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  const ascii = (i: number, n: number) => String.fromCharCode(...b.subarray(i, i + n));
  if (b.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 4) === 'WEBP') return 'WebP';
  if (b.length >= 6 && (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a')) return 'GIF';
  if (b.length >= 2 && ascii(0, 2) === 'BM') return 'BMP';
  if (b.length >= 4 && ((b[0] === 0x49 && b[1] === 0x49) || (b[0] === 0x4d && b[1] === 0x4d)) && (b[2] === 42 || b[3] === 42)) return 'TIFF';
  return 'unknown';
}

function decodePng(bytes: Uint8Array, name: string): Decoded {
  let img: { width: number; height: number; data: Uint8Array | Uint16Array; depth?: number; colorType?: number };
  try {
    img = pngjs.PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { skipRescale: true }) as typeof img;
  } catch (e) {
    throw new ImageError(name, `corrupt or unsupported PNG: ${(e as Error).message}`);
  }
  const C = img.colorType === 0 || img.colorType === 4 ? 1 : 3;
  const depth = img.depth === 16 ? 16 : 8;
  // pngjs hands out RGBA (Uint16Array at 16 bits): a strided view keeps the first C channels.
  const data = depth === 16 && !(img.data instanceof Uint16Array) ? new Uint16Array(img.data.buffer, img.data.byteOffset, img.data.byteLength / 2) : img.data;
  return { format: 'png', depth, pixels: ndarray(data, [img.height, img.width, C], [4 * img.width, 4, 1], 0) };
}

function decodeJpeg(bytes: Uint8Array, name: string): Decoded {
  let img: { width: number; height: number; data: Uint8Array };
  try {
    img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, tolerantDecoding: false, ...LIMITS });
  } catch (e) {
    throw new ImageError(name, `corrupt or unsupported JPEG: ${(e as Error).message}`);
  }
  if (!(img.width > 0 && img.height > 0) || img.data.length !== img.width * img.height * 3) throw new ImageError(name, 'corrupt JPEG: no image data');
  return { format: 'jpeg', depth: 8, pixels: ndarray(img.data, [img.height, img.width, 3]) };
}

/**
 * Decodes a PNG or JPEG file's bytes.
 * @throws {ImageError} naming `name` and what is wrong (format, corruption, size limits)
 */
export function decodeImage(bytes: Uint8Array, name = 'image'): Decoded {
  const f = formatOf(bytes);
  if (f === 'png') return decodePng(bytes, name);
  if (f === 'jpeg') return decodeJpeg(bytes, name);
  if (bytes.length === 0) throw new ImageError(name, 'empty file');
  throw new ImageError(name, f === 'unknown' ? 'not a PNG or JPEG file' : `${f} images are not supported (convert to PNG or JPEG)`);
}
