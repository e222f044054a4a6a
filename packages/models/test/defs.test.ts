import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { deeplabV3MobileNetV2, deeplabV3R50, fmnistResNet, mobilenetV2, resnet18Cifar, resnet50 } from '../src/index.ts';

const summary = (g: ReturnType<typeof resnet50>) => {
  const l = g.reluLayers();
  return { layers: l.length, channels: l.reduce((s, x) => s + x.channels, 0), relus: l.reduce((s, x) => s + x.relus, 0) };
};

test('ReLU layer, channel and ReLU counts match the paper-digest tables', () => {
  assert.equal(summary(resnet18Cifar()), { layers: 17, channels: 3904, relus: 557_056 });
  assert.equal(summary(resnet50()), { layers: 49, channels: 22_720, relus: 9_608_704 });
  assert.equal(summary(deeplabV3MobileNetV2()), { layers: 40, channels: 17_344, relus: 85_262_848 });
  assert.equal(summary(deeplabV3R50()), { layers: 57, channels: 25_856, relus: 127_402_496 });
  const r50 = resnet50().reluLayers();
  assert.equal(r50.slice(0, 2).map((l) => [l.name, l.channels, l.H]), [['stem', 64, 112], ['layer1_0_1', 64, 56]]);
  assert.equal(r50.find((l) => l.name === 'layer2_0_1')!.H, 56);
  assert.equal(r50.find((l) => l.name === 'layer4_2_3')!.channels, 2048);
  const voc = deeplabV3R50().reluLayers();
  assert.equal(voc.find((l) => l.name === 'decode_0')!.relus, 512);
  assert.equal(deeplabV3R50().outputShape, [21, 64, 64]);
  assert.equal(resnet50().outputShape, [1000]);
});

test('segmentation networks at the paper\'s 512x683 image: its ADE20K ReLU count, and logits upsampled to the image when asked', () => {
  // The digest: "On the typical 512x683 ADE image ... there are 114,422,272 ReLUs".
  assert.is(summary(deeplabV3MobileNetV2(150, [512, 683])).relus, 114_422_272);
  assert.equal(deeplabV3MobileNetV2(150, [512, 683]).outputShape, [150, 64, 86]);
  const up = deeplabV3R50(21, [512, 683], { upsample: true });
  assert.equal(up.outputShape, [21, 512, 683]);
  assert.equal(up.node(up.output).op, 'resize');
  assert.equal(summary(up), summary(deeplabV3R50(21, [512, 683])));
});

test('the small Fashion-MNIST ResNet and the MobileNetV2 classifier', () => {
  const g = fmnistResNet();
  const params = g.params().filter((p) => p.kind === 'weight' || p.kind === 'bias' || p.kind === 'bn_weight' || p.kind === 'bn_bias');
  const count = params.reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
  assert.ok(count > 150_000 && count < 300_000, `${count} parameters`);
  assert.equal(summary(g), { layers: 13, channels: 464, relus: 100_352 });
  assert.equal(summary(mobilenetV2()), { layers: 35, channels: 15_552, relus: 6_105_792 });
  assert.equal(g.outputShape, [10]);
  assert.equal(mobilenetV2().outputShape, [1000]);
  assert.is(mobilenetV2().reluLayers().at(-1)!.name, 'conv2');
});

test.run();
