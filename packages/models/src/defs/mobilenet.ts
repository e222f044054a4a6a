/**
 * MobileNetV2 (with ReLU instead of ReLU6 by default: one comparison per activation instead of two), as a
 * classifier and as the DeepLabV3 backbone used for ADE20K (output stride 8). ReLU layers are named
 * `conv1`, `layerL_B_0` (expansion, or the depthwise conv of t = 1 blocks) and `layerL_B_1` (depthwise).
 * @module
 */
import { GraphBuilder, type Graph } from '../graph.ts';
import { asppHead, segOutput, sides, type SegOptions } from './resnet.ts';

const SETTINGS: [number, number, number][] = [[1, 16, 1], [6, 24, 2], [6, 32, 3], [6, 64, 4], [6, 96, 3], [6, 160, 3], [6, 320, 1]];

function invertedResidual(g: GraphBuilder, x: string, l: number, b: number, t: number, out: number, stride: number, dilation: number, six: boolean): string {
  const nm = `layer${l}.${b}`;
  const cin = g.shape(x)[0]!, hidden = cin * t;
  let y = x, r = 0;
  if (t !== 1) y = g.convBn(`${nm}.expand`, y, { out: hidden, kernel: 1 }, `layer${l}_${b}_${r++}`, six);
  y = g.convBn(`${nm}.dw`, y, { out: hidden, kernel: 3, stride, padding: dilation, dilation, groups: hidden }, `layer${l}_${b}_${r++}`, six);
  y = g.convBn(`${nm}.project`, y, { out, kernel: 1 });
  return stride === 1 && cin === out ? g.add(`${nm}.add`, y, x) : y;
}

function backbone(g: GraphBuilder, strides: number[], dilations: number[], six: boolean): string {
  let x = g.convBn('conv1', g.input, { out: 32, kernel: 3, stride: 2, padding: 1 }, 'conv1', six);
  SETTINGS.forEach(([t, c, n], i) => {
    for (let b = 0; b < n; b++) x = invertedResidual(g, x, i + 1, b, t, c, b === 0 ? strides[i]! : 1, dilations[i]!, six);
  });
  return x;
}

/** MobileNetV2 classifier (ImageNet layout, 1280-channel head). */
export function mobilenetV2(classes = 1000, size = 224, opts: { relu6?: boolean } = {}): Graph {
  const g = new GraphBuilder('mobilenet_v2', [3, size, size]);
  const x = backbone(g, [1, 2, 2, 2, 1, 2, 1], [1, 1, 1, 1, 1, 1, 1], !!opts.relu6);
  const y = g.convBn('conv2', x, { out: 1280, kernel: 1 }, 'conv2', !!opts.relu6);
  return g.build(g.linear('fc', g.flatten('flatten', g.gap('gap', y)), classes));
}

/**
 * DeepLabV3 on MobileNetV2-D8 (strides 1,2,2,1,1,1,1; dilations 1,1,1,2,2,4,4) with the ASPP head, as used
 * for ADE20K: 40 ReLU layers, 85,262,848 ReLUs at 512x512 (114,422,272 at 512x683). Output: class logits
 * at 1/8 resolution, or (`upsample`) at the input's. `size` is one side or [H, W].
 */
export function deeplabV3MobileNetV2(classes = 150, size: number | readonly [number, number] = 512, opts: { relu6?: boolean } & SegOptions = {}): Graph {
  const hw = sides(size);
  const g = new GraphBuilder('deeplabv3_mobilenet_v2_d8', [3, ...hw]);
  const x = backbone(g, [1, 2, 2, 1, 1, 1, 1], [1, 1, 1, 2, 2, 4, 4], !!opts.relu6);
  return g.build(segOutput(g, asppHead(g, x, classes), hw, opts));
}
