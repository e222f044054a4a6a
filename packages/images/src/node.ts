/**
 * @si/images/node: reading image files (PNG, JPEG) and writing PNGs, for Node.
 * @module
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { NdArray } from 'ndarray';
import { decodeImage, type Decoded } from './decode.ts';
import { encodePng } from './encode.ts';
import { ImageError } from './preprocess.ts';

export { decodeImage, type Decoded } from './decode.ts';
export { encodePng } from './encode.ts';

/**
 * Reads and decodes an image file.
 * @throws {ImageError} naming the file: unreadable, not PNG or JPEG, corrupt
 */
export function readImage(path: string): Decoded {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new ImageError(path, `cannot read: ${(e as NodeJS.ErrnoException).code === 'EISDIR' ? 'a directory' : (e as Error).message}`);
  }
  return decodeImage(bytes, path);
}

/** Writes pixels as a PNG file. */
export function writePng(path: string, pixels: NdArray<Uint8Array | Uint8ClampedArray | Uint16Array>): void {
  writeFileSync(path, encodePng(pixels));
}
