/**
 * A small DeepLabV3 for the Fashion-MNIST scenes (64x64x1, 11 classes): a strided 3x3 stem (16 channels,
 * 32x32), a residual block, a strided block to 32 channels at 16x16 (output stride 4), a residual block
 * dilated by 2 (atrous, as DeepLabV3's later stages), and the ASPP head (24 channels, dilations 1, 2, 4,
 * 6, with image pooling). Output: logits at 16x16, or (`upsample`) bilinearly at 64x64 — the same
 * parameters either way (a resize has none). 13 ReLU layers, 112,664 ReLUs.
 * @module
 */
import { GraphBuilder, type Graph } from '../graph.ts';
import { asppHead, segOutput, type SegOptions } from './resnet.ts';

function block(g: GraphBuilder, x: string, name: string, out: number, stride: number, dilation: number): string {
  const cin = g.shape(x)[0]!;
  let y = g.convBn(`${name}.conv1`, x, { out, kernel: 3, stride, padding: dilation, dilation }, `${name}_1`);
  y = g.convBn(`${name}.conv2`, y, { out, kernel: 3, padding: dilation, dilation });
  const sc = stride !== 1 || cin !== out ? g.convBn(`${name}.downsample`, x, { out, kernel: 1, stride }) : x;
  return g.relu(`${name}.relu2`, g.add(`${name}.add`, y, sc), `${name}_2`);
}

export function sceneNet(classes = 11, opts: SegOptions = {}): Graph {
  const g = new GraphBuilder('fmnist_scenes_deeplab', [1, 64, 64]);
  let x = g.convBn('stem', g.input, { out: 16, kernel: 3, stride: 2, padding: 1 }, 'stem');
  x = block(g, x, 'layer1', 16, 1, 1);
  x = block(g, x, 'layer2', 32, 2, 1);
  x = block(g, x, 'layer3', 32, 1, 2);
  return g.build(segOutput(g, asppHead(g, x, classes, 24, [1, 2, 4, 6]), [64, 64], opts));
}
