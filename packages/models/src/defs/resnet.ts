/**
 * ResNet definitions with the layer names of the paper's specs (paper-digest §6.1): ReLU after conv1 of a
 * block is `layerS_B_1`, after conv2 `layerS_B_2`, and (bottlenecks) after the residual add `layerS_B_3`;
 * basic blocks' ReLU after the add is `layerS_B_2`.
 * @module
 */
import { GraphBuilder, type Graph } from '../graph.ts';

function basicBlock(g: GraphBuilder, x: string, s: number, b: number, out: number, stride: number): string {
  const nm = `layer${s}.${b}`;
  const cin = g.shape(x)[0]!;
  let y = g.convBn(`${nm}.conv1`, x, { out, kernel: 3, stride, padding: 1 }, `layer${s}_${b}_1`);
  y = g.convBn(`${nm}.conv2`, y, { out, kernel: 3, padding: 1 });
  const sc = stride !== 1 || cin !== out ? g.convBn(`${nm}.downsample`, x, { out, kernel: 1, stride }) : x;
  return g.relu(`${nm}.relu2`, g.add(`${nm}.add`, y, sc), `layer${s}_${b}_2`);
}

function bottleneck(g: GraphBuilder, x: string, s: number, b: number, width: number, stride: number, dilation: number, firstDilation: number): string {
  const nm = `layer${s}.${b}`;
  const cin = g.shape(x)[0]!;
  const d = b === 0 ? firstDilation : dilation;
  let y = g.convBn(`${nm}.conv1`, x, { out: width, kernel: 1 }, `layer${s}_${b}_1`);
  y = g.convBn(`${nm}.conv2`, y, { out: width, kernel: 3, stride, padding: d, dilation: d }, `layer${s}_${b}_2`);
  y = g.convBn(`${nm}.conv3`, y, { out: 4 * width, kernel: 1 });
  const sc = b === 0 && (stride !== 1 || cin !== 4 * width) ? g.convBn(`${nm}.downsample`, x, { out: 4 * width, kernel: 1, stride }) : x;
  return g.relu(`${nm}.relu3`, g.add(`${nm}.add`, y, sc), `layer${s}_${b}_3`);
}

/** ResNet18 for CIFAR (3x3 stem, no max-pool): 17 ReLU layers, 557,056 ReLUs at 32x32. */
export function resnet18Cifar(classes = 100, size = 32): Graph {
  const g = new GraphBuilder('resnet18_cifar', [3, size, size]);
  let x = g.convBn('stem', g.input, { out: 64, kernel: 3, padding: 1 }, 'stem');
  ([[64, 1], [128, 2], [256, 2], [512, 2]] as const).forEach(([w, stride], i) => {
    for (let b = 0; b < 2; b++) x = basicBlock(g, x, i + 1, b, w, b === 0 ? stride : 1);
  });
  return g.build(g.linear('fc', g.flatten('flatten', g.gap('gap', x)), classes));
}

/** ResNet50 v1.5 with the stem max-pool replaced by 3x3/2 average pooling: 49 ReLU layers, 9,608,704 ReLUs at 224. */
export function resnet50(classes = 1000, size = 224): Graph {
  const g = new GraphBuilder('resnet50', [3, size, size]);
  let x = g.convBn('stem', g.input, { out: 64, kernel: 7, stride: 2, padding: 3 }, 'stem');
  x = g.pool('stem.pool', x, 'avgpool', 3, 2, 1);
  ([[64, 3, 1], [128, 4, 2], [256, 6, 2], [512, 3, 2]] as const).forEach(([w, n, stride], i) => {
    for (let b = 0; b < n; b++) x = bottleneck(g, x, i + 1, b, w, b === 0 ? stride : 1, 1, 1);
  });
  return g.build(g.linear('fc', g.flatten('flatten', g.gap('gap', x)), classes));
}

/** ASPP head (DeepLabV3): image pooling (decode_0), four branches (decode_1..4), bottleneck (decode_5), classifier. */
export function asppHead(g: GraphBuilder, x: string, classes: number, channels = 512, dilations = [1, 12, 24, 36]): string {
  const [, H, W] = g.shape(x) as [number, number, number];
  const pooled = g.convBn('decode.image_pool', g.gap('decode.gap', x), { out: channels, kernel: 1 }, 'decode_0');
  const branches = [g.resize('decode.image_pool.resize', pooled, [H, W], 'bilinear')];
  dilations.forEach((d, i) => {
    const o = d === 1 ? { out: channels, kernel: 1 } : { out: channels, kernel: 3, padding: d, dilation: d };
    branches.push(g.convBn(`decode.aspp${i}`, x, o, `decode_${i + 1}`));
  });
  const y = g.convBn('decode.bottleneck', g.concat('decode.concat', branches), { out: channels, kernel: 3, padding: 1 }, `decode_${dilations.length + 1}`);
  return g.conv('decode.cls', y, { out: classes, kernel: 1, bias: true });
}

/** Options of the segmentation networks. */
export interface SegOptions {
  /**
   * Upsample the logits bilinearly to the input size (mmseg's inference: the output is then at image
   * resolution). Default false: logits at 1/8 resolution.
   */
  upsample?: boolean;
}

/** [H, W] of a size given as one side or two. */
export const sides = (size: number | readonly [number, number]): [number, number] => (typeof size === 'number' ? [size, size] : [size[0], size[1]]);

/** The logits, upsampled to the input size when asked. */
export function segOutput(g: GraphBuilder, logits: string, [H, W]: [number, number], opts: SegOptions): string {
  return opts.upsample ? g.resize('upsample', logits, [H, W], 'bilinear') : logits;
}

/**
 * DeepLabV3 on a ResNet50-D8 backbone (ResNetV1c: 3-conv stem, average pooling instead of max-pooling;
 * layers 3 and 4 dilated by 2 and 4, output stride 8), as used for Pascal VOC: 57 ReLU layers,
 * 127,402,496 ReLUs at 512x512. Output: class logits at 1/8 resolution, or (`upsample`) at the input's.
 * `size` is one side or [H, W] (the paper's costs are for 512x683 images).
 */
export function deeplabV3R50(classes = 21, size: number | readonly [number, number] = 512, opts: SegOptions = {}): Graph {
  const hw = sides(size);
  const g = new GraphBuilder('deeplabv3_r50_d8', [3, ...hw]);
  let x = g.convBn('stem.0', g.input, { out: 32, kernel: 3, stride: 2, padding: 1 }, 'stem_2');
  x = g.convBn('stem.3', x, { out: 32, kernel: 3, padding: 1 }, 'stem_5');
  x = g.convBn('stem.6', x, { out: 64, kernel: 3, padding: 1 }, 'stem_8');
  x = g.pool('stem.pool', x, 'avgpool', 3, 2, 1);
  ([[64, 3, 1, 1], [128, 4, 2, 1], [256, 6, 1, 2], [512, 3, 1, 4]] as const).forEach(([w, n, stride, dil], i) => {
    for (let b = 0; b < n; b++) x = bottleneck(g, x, i + 1, b, w, b === 0 ? stride : 1, dil, Math.max(1, dil / 2));
  });
  return g.build(segOutput(g, asppHead(g, x, classes), hw, opts));
}

/**
 * A small ResNet for 28x28x1 Fashion-MNIST: a 3x3 stem (16 channels) and three stages of two basic
 * blocks (16, 32, 64 channels; 28, 14, 7 pixels), global average pooling, a 10-way classifier.
 * About 175,000 parameters, 13 ReLU layers.
 */
export function fmnistResNet(classes = 10, widths: readonly [number, number, number] = [16, 32, 64]): Graph {
  const g = new GraphBuilder('fmnist_resnet', [1, 28, 28]);
  let x = g.convBn('stem', g.input, { out: widths[0], kernel: 3, padding: 1 }, 'stem');
  widths.forEach((w, i) => {
    for (let b = 0; b < 2; b++) x = basicBlock(g, x, i + 1, b, w, b === 0 && i > 0 ? 2 : 1);
  });
  return g.build(g.linear('fc', g.flatten('flatten', g.gap('gap', x)), classes));
}
