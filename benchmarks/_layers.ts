// ReLU layer shapes of the paper's networks (paper-digest §6.1): channels and map size per layer.
export interface ReluShape {
  name: string;
  channels: number;
  H: number;
  W: number;
}

export function resnet50Relus(): ReluShape[] {
  const out: ReluShape[] = [{ name: 'stem', channels: 64, H: 112, W: 112 }];
  const stages: [number, number, number][] = [[64, 56, 3], [128, 28, 4], [256, 14, 6], [512, 7, 3]];
  let prevH = 56;
  stages.forEach(([w, h, blocks], s) => {
    for (let b = 0; b < blocks; b++) {
      const inH = b === 0 ? prevH : h;
      out.push({ name: `layer${s + 1}_${b}_1`, channels: w, H: inH, W: inH });
      out.push({ name: `layer${s + 1}_${b}_2`, channels: w, H: h, W: h });
      out.push({ name: `layer${s + 1}_${b}_3`, channels: 4 * w, H: h, W: h });
    }
    prevH = h;
  });
  return out;
}

export function resnet18CifarRelus(): ReluShape[] {
  const out: ReluShape[] = [{ name: 'stem', channels: 64, H: 32, W: 32 }];
  ([[64, 32], [128, 16], [256, 8], [512, 4]] as const).forEach(([c, h], s) => {
    for (let b = 0; b < 2; b++) for (const r of [1, 2]) out.push({ name: `layer${s + 1}_${b}_${r}`, channels: c, H: h, W: h });
  });
  return out;
}

export function deeplabR50VocRelus(): ReluShape[] {
  const out: ReluShape[] = [
    { name: 'stem_2', channels: 32, H: 256, W: 256 }, { name: 'stem_5', channels: 32, H: 256, W: 256 }, { name: 'stem_8', channels: 64, H: 256, W: 256 },
  ];
  const stages: [number, number, number, number][] = [[64, 128, 128, 3], [128, 128, 64, 4], [256, 64, 64, 6], [512, 64, 64, 3]];
  stages.forEach(([w, inH, h, blocks], s) => {
    for (let b = 0; b < blocks; b++) {
      out.push({ name: `layer${s + 1}_${b}_1`, channels: w, H: b === 0 ? inH : h, W: b === 0 ? inH : h });
      out.push({ name: `layer${s + 1}_${b}_2`, channels: w, H: h, W: h });
      out.push({ name: `layer${s + 1}_${b}_3`, channels: 4 * w, H: h, W: h });
    }
  });
  out.push({ name: 'decode_0', channels: 512, H: 1, W: 1 });
  for (let i = 1; i <= 5; i++) out.push({ name: `decode_${i}`, channels: 512, H: 64, W: 64 });
  return out;
}
