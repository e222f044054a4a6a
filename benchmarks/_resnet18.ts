// ResNet18 for CIFAR (3x3 stem, no max-pool): its 17 ReLU layers (paper-digest §6.1).
import type { ReluLayerInfo } from '@si/patch-relu';

export function resnet18ReluLayers(): ReluLayerInfo[] {
  const out: ReluLayerInfo[] = [{ name: 'stem', channels: 64, H: 32, W: 32 }];
  const stages: [number, number][] = [[64, 32], [128, 16], [256, 8], [512, 4]];
  stages.forEach(([c, h], s) => {
    for (let b = 0; b < 2; b++) for (const r of [1, 2]) out.push({ name: `layer${s + 1}_${b}_${r}`, channels: c, H: h, W: h });
  });
  return out;
}
