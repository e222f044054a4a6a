// ResNet50 v1.5 convolution shapes at 224x224 (stride on the 3x3 of each bottleneck, 1x1 downsample
// convolutions, the classifier as a 1x1 convolution on the pooled 2048-vector). The stem max-pool
// (replaced by average pooling in the paper) has no weights, so it changes no shape here.
export interface ConvSpec {
  name: string;
  x: [number, number, number, number];
  w: [number, number, number, number];
  stride: number;
  padding: number;
}

export function resnet50Convs(batch = 1, size = 224): ConvSpec[] {
  const out: ConvSpec[] = [];
  const conv = (name: string, c: number, h: number, o: number, k: number, stride: number): number => {
    const padding = (k - 1) / 2;
    out.push({ name, x: [batch, c, h, h], w: [o, c, k, k], stride, padding });
    return Math.floor((h + 2 * padding - k) / stride) + 1;
  };
  let h = conv('stem', 3, size, 64, 7, 2);
  h = Math.floor((h + 2 - 3) / 2) + 1; // 3x3/2 pooling
  let c = 64;
  const stages: [number, number][] = [[64, 3], [128, 4], [256, 6], [512, 3]];
  stages.forEach(([width, blocks], s) => {
    for (let b = 0; b < blocks; b++) {
      const stride = b === 0 && s > 0 ? 2 : 1;
      const name = `layer${s + 1}_${b}`;
      conv(`${name}_conv1`, c, h, width, 1, 1);
      const h2 = conv(`${name}_conv2`, width, h, width, 3, stride);
      conv(`${name}_conv3`, width, h2, width * 4, 1, 1);
      if (b === 0) conv(`${name}_downsample`, c, h, width * 4, 1, stride);
      c = width * 4;
      h = h2;
    }
  });
  out.push({ name: 'fc', x: [batch, 2048, 1, 1], w: [1000, 2048, 1, 1], stride: 1, padding: 0 });
  return out;
}
