#!/usr/bin/env node
// Prints the README's Fashion-MNIST table from results/fmnist (written by tools/fmnist-results.sh).
import { readFileSync, existsSync } from 'node:fs';

const R = new URL('../results/fmnist/', import.meta.url);
const read = (f) => (existsSync(new URL(f, R)) ? JSON.parse(readFileSync(new URL(f, R), 'utf8')) : undefined);
// Paper, top-1 relative to its all-ReLU baseline (paper-digest §8.1): ResNet18 on CIFAR-100, ResNet50 on ImageNet.
const paper = { 100: [78.27, 76.55], 18: [76.88, 74.40], 9: [74.85, 72.23], 6: [71.16, 70.36], 3: [65.52, 65.59] };
const base = read('accuracy-100pct.json').accuracy;
const pct = (v) => `${(100 * v).toFixed(2)}%`;
console.log('| DReLU budget | DReLUs / image | accuracy (10,000 test images) | vs all-ReLU | before fine-tuning | paper, relative to all-ReLU: CIFAR-100 / ImageNet | bytes / image (secure, all parties) | secure = plaintext (first 100) |');
console.log('|---|---|---|---|---|---|---|---|');
for (const b of [100, 18, 9, 6, 3]) {
  const a = read(`accuracy-${b}pct.json`), s = read(`secure-100-${b}pct.json`), ft = read(`finetune-${b}pct.json`);
  if (!a) continue;
  const rel = b === 100 ? '100% / 100%' : `${((100 * paper[b][0]) / paper[100][0]).toFixed(1)}% / ${((100 * paper[b][1]) / paper[100][1]).toFixed(1)}%`;
  const change = b === 100 ? '100%' : `${((a.accuracy - base) * 100).toFixed(2)} points (${((100 * a.accuracy) / base).toFixed(1)}%)`;
  const from = ft?.weights?.match(/(\d+)pct/); // fine-tuned from another budget's network rather than the all-ReLU one
  const before = b === 100 ? '' : `${pct(ft.before)} (${from ? `starting from the ${from[1]}% network; ` : ''}then ${ft.steps.toLocaleString('en-US')} steps of 64${ft.teacher ? ', distilled' : ''})`;
  console.log(`| ${b}% | ${a.drelus.toLocaleString('en-US')} | ${pct(a.accuracy)} | ${change} | ${before} | ${rel} | ${s ? s.bytes_per_image.toLocaleString('en-US') : ''} | ${s ? `${s.images - s.disagreements.length}/${s.images}` : ''} |`);
}
const cmp = read('distortion-compare.json');
if (cmp) console.log(`\nfast vs exact distortion: mean Spearman rho ${cmp.mean_rho.toFixed(3)} over ${cmp.layers.length} layers (min ${Math.min(...cmp.layers.map((l) => l.rho)).toFixed(3)}); exact ${cmp.seconds.exact.toFixed(0)} s, fast ${cmp.seconds.fast.toFixed(1)} s (${cmp.speedup.toFixed(0)}x)`);
const big = read('secure-10000-6pct.json');
if (big) console.log(`\n6% on all ${big.images} test images: secure ${pct(big.secure_acc)}, fixed point ${pct(big.plain_acc)}, float ${pct(big.float_acc)}, agreement ${pct(big.agreement)} (${big.disagreements.length} differ: ${big.disagreements.join(', ')}), ${big.bytes_per_image.toLocaleString('en-US')} B/image vs ${big.full_relu_bytes_per_image.toLocaleString('en-US')} all-ReLU, ${big.images_per_second.toFixed(1)} images/s`);
