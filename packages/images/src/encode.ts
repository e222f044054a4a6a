/**
 * PNG encoding (pngjs) of 8-bit or 16-bit pixels [H, W] or [H, W, C] (C = 1 grey, 2 grey + alpha,
 * 3 RGB, 4 RGBA), any strides.
 * @module
 */
import pngjs from 'pngjs';
import type { NdArray } from 'ndarray';

const COLOR_TYPE = [0, 0, 4, 2, 6] as const;

/**
 * The pixels as a PNG file.
 * @throws {RangeError} for another shape or sample type
 */
export function encodePng(pixels: NdArray<Uint8Array | Uint8ClampedArray | Uint16Array>): Uint8Array {
  const [H, W, C = 1] = pixels.shape as [number, number, number?];
  if (!(pixels.shape.length === 2 || pixels.shape.length === 3) || C < 1 || C > 4) throw new RangeError(`"pixels" expected [H, W] or [H, W, 1..4], got [${pixels.shape.join(', ')}]`);
  const sixteen = pixels.data instanceof Uint16Array;
  if (!sixteen && !(pixels.data instanceof Uint8Array || pixels.data instanceof Uint8ClampedArray)) throw new RangeError('"pixels" expected 8-bit or 16-bit samples');
  // pngjs reads RGBA input; its 16-bit input is big-endian-agnostic Uint16 samples.
  const rgba = sixteen ? new Uint16Array(4 * H * W) : new Uint8Array(4 * H * W);
  const max = sixteen ? 65535 : 255;
  const [sy, sx, sc = 0] = pixels.stride as [number, number, number?];
  const d = pixels.data, o = pixels.offset;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const at = (c: number) => d[o + y * sy + x * sx + c * sc]!;
      const i = 4 * (y * W + x);
      const grey = C <= 2;
      rgba[i] = at(0);
      rgba[i + 1] = grey ? at(0) : at(1);
      rgba[i + 2] = grey ? at(0) : at(2);
      rgba[i + 3] = C === 2 ? at(1) : C === 4 ? at(3) : max;
    }
  }
  const colorType = COLOR_TYPE[C]!;
  const png = new pngjs.PNG({ width: W, height: H, bitDepth: sixteen ? 16 : 8, colorType, inputColorType: 6 });
  png.data = Buffer.from(rgba.buffer);
  return new Uint8Array(pngjs.PNG.sync.write(png, { bitDepth: sixteen ? 16 : 8, colorType, inputColorType: 6 }));
}
