import type { NdArray } from 'ndarray';

/**
 * Inputs [C, H, W] (any strides) as one batch [N, C, H, W], C-contiguous float32: a single input that is
 * already contiguous is returned without copying.
 * @throws {RangeError} when the inputs' shapes differ
 */
export function stackInputs(inputs: readonly NdArray<Float32Array | Float64Array>[]): { x: Float32Array; shape: [number, number, number, number] } {
  if (inputs.length === 0) throw new RangeError('"inputs" expected at least one input');
  const [C, H, W] = inputs[0]!.shape as [number, number, number];
  const per = C * H * W;
  const contiguous = (a: NdArray<Float32Array | Float64Array>) => a.data instanceof Float32Array && a.offset === 0 && a.data.length === per && a.stride.join() === [H * W, W, 1].join();
  if (inputs.length === 1 && contiguous(inputs[0]!)) return { x: inputs[0]!.data as Float32Array, shape: [1, C, H, W] };
  const x = new Float32Array(inputs.length * per);
  inputs.forEach((a, n) => {
    if (a.shape.join() !== [C, H, W].join()) throw new RangeError(`input ${n} has shape [${a.shape.join(', ')}], input 0 [${C}, ${H}, ${W}]`);
    const [sc, sy, sx] = a.stride as [number, number, number];
    for (let c = 0; c < C; c++) for (let y = 0; y < H; y++) for (let i = 0; i < W; i++) x[n * per + (c * H + y) * W + i] = a.data[a.offset + c * sc + y * sy + i * sx]!;
  });
  return { x, shape: [inputs.length, C, H, W] };
}
