import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { conv2d, convGeometry, getThreads, RingTensor, setThreads, type Conv2dOptions } from '../src/index.ts';
import { narrowProductCount } from '../src/matmul.ts';
import { conv2dRef, randInt, randomTensor, rng, sameI64 } from './_helpers.ts';

const r = rng('conv');

function check(xShape: number[], wShape: number[], opts: Conv2dOptions, label: string): void {
  const x = randomTensor(r, xShape), w = randomTensor(r, wShape);
  const g = convGeometry(x.shape, w.shape, opts);
  const y = conv2d(x, w, opts);
  assert.equal(y.shape, [g.N, g.O, g.OH, g.OW], label);
  assert.is(sameI64(y.data, conv2dRef(x, w, g)), true, label);
}

test('random convolutions (stride, padding, dilation, groups, batch) equal the BigInt reference', () => {
  for (let trial = 0; trial < 80; trial++) {
    const groups = [1, 1, 2, 3][randInt(r, 0, 3)]!;
    const Cg = randInt(r, 1, 4), Og = randInt(r, 1, 6);
    const KH = randInt(r, 1, 4), KW = randInt(r, 1, 4);
    const DH = randInt(r, 1, 2), DW = randInt(r, 1, 3);
    const pad: Conv2dOptions['padding'] = r() < 0.3 ? [randInt(r, 0, 2), randInt(r, 0, 2), randInt(r, 0, 2), randInt(r, 0, 2)] : [randInt(r, 0, 2), randInt(r, 0, 2)];
    const H = randInt(r, DH * (KH - 1) + 1, 11), W = randInt(r, DW * (KW - 1) + 1, 11);
    const opts: Conv2dOptions = { stride: [randInt(r, 1, 3), randInt(r, 1, 3)], padding: pad, dilation: [DH, DW], groups };
    const N = randInt(r, 1, 3);
    check([N, Cg * groups, H, W], [Og * groups, Cg, KH, KW], opts, JSON.stringify({ N, Cg, Og, H, W, KH, KW, ...opts }));
  }
});

test('weights in signed 32 bits (fixed-point): the narrow kernel, equal to the BigInt reference', () => {
  const edges = [0n, -1n, 2n ** 31n - 1n, -(2n ** 31n)];
  for (let trial = 0; trial < 30; trial++) {
    const groups = [1, 2][randInt(r, 0, 1)]!, Cg = randInt(r, 2, 5), Og = randInt(r, 1, 9);
    const opts: Conv2dOptions = { stride: randInt(r, 1, 2), padding: randInt(r, 0, 2), dilation: randInt(r, 1, 2), groups };
    const x = randomTensor(r, [randInt(r, 1, 2), Cg * groups, randInt(r, 5, 10), randInt(r, 5, 10)]);
    const w = randomTensor(r, [Og * groups, Cg, 3, 3], 0);
    for (let i = 0; i < w.size; i++) w.data[i] = r() < 0.2 ? edges[randInt(r, 0, 3)]! : BigInt(r.int32() >> randInt(r, 0, 20));
    const before = narrowProductCount();
    assert.is(sameI64(conv2d(x, w, opts).data, conv2dRef(x, w, convGeometry(x.shape, w.shape, opts))), true, JSON.stringify(opts));
    assert.is(narrowProductCount(), before + 1, 'ran on the narrow kernel');
  }
});

test('deep convolutions (Cg x KH x KW > 512: blocked by whole channels, the tiles accumulating) equal the reference', () => {
  check([1, 70, 6, 7], [6, 70, 3, 3], { padding: 1 }, '3x3, 630 deep (28 channels a block, a short last block)');
  check([2, 700, 3, 5], [5, 700, 1, 1], {}, '1x1, 700 deep');
  check([1, 23, 7, 7], [7, 23, 5, 5], { padding: 2, dilation: [1, 2] }, '5x5 dilated, 575 deep');
  check([1, 2 * 60, 5, 6], [2 * 5, 60, 3, 3], { groups: 2, stride: 2, padding: 1 }, 'two groups, 540 deep each');
  const x = randomTensor(r, [1, 64, 5, 5]), w = randomTensor(r, [6, 64, 3, 3], 0);
  for (let i = 0; i < w.size; i++) w.data[i] = BigInt(r.int32() >> 8);
  assert.is(sameI64(conv2d(x, w, { padding: 1 }).data, conv2dRef(x, w, convGeometry(x.shape, w.shape, { padding: 1 }))), true, 'narrow, 576 deep');
});

test('depthwise (one input channel per group, with channel multiplier)', () => {
  check([2, 5, 9, 8], [5, 1, 3, 3], { groups: 5, padding: 1 }, 'dw 3x3');
  check([1, 4, 7, 7], [8, 1, 3, 3], { groups: 4, stride: 2, padding: 1 }, 'dw multiplier 2, stride 2');
  check([1, 3, 10, 10], [3, 1, 3, 3], { groups: 3, dilation: 2, padding: 2 }, 'dw dilated');
  check([1, 1, 6, 6], [4, 1, 2, 2], {}, 'single channel, 4 filters');
});

test('ResNet-like layers (1x1, 3x3/s2, 7x7/s2 stem) and wrap-around values', () => {
  check([1, 16, 14, 14], [24, 16, 1, 1], {}, '1x1');
  check([1, 8, 15, 15], [12, 8, 3, 3], { stride: 2, padding: 1 }, '3x3 s2');
  check([1, 3, 20, 20], [8, 3, 7, 7], { stride: 2, padding: 3 }, '7x7 s2 stem');
  const x = RingTensor.from([2n ** 63n - 1n, -(2n ** 63n), -1n, 2n ** 62n], [1, 1, 2, 2]);
  const w = RingTensor.from([-1n, 2n ** 63n - 1n, 3n, -(2n ** 62n)], [1, 1, 2, 2]);
  const y = conv2d(x, w, { padding: 1 });
  assert.is(sameI64(y.data, conv2dRef(x, w, convGeometry(x.shape, w.shape, { padding: 1 }))), true);
});

test('threaded convolutions equal the single-thread result', () => {
  const x = randomTensor(r, [2, 32, 18, 18]), w = randomTensor(r, [40, 32, 3, 3]);
  const dwx = randomTensor(r, [1, 64, 40, 40]), dww = randomTensor(r, [64, 1, 5, 5]);
  const before = getThreads();
  try {
    setThreads(1);
    const a = conv2d(x, w, { padding: 1 }), da = conv2d(dwx, dww, { groups: 64, padding: 2 });
    setThreads(2);
    const b = conv2d(x, w, { padding: 1 }), db = conv2d(dwx, dww, { groups: 64, padding: 2 });
    assert.ok(a.equals(b));
    assert.ok(da.equals(db));
    assert.is(sameI64(b.data, conv2dRef(x, w, convGeometry(x.shape, w.shape, { padding: 1 }))), true);
  } finally {
    setThreads(before);
  }
});

test('geometry errors say what is wrong', () => {
  const x = RingTensor.zeros([1, 4, 5, 5]);
  assert.throws(() => conv2d(x, RingTensor.zeros([2, 3, 3, 3])), /"w" expected shape \[2,4,3,3\] for 4 input channels in 1 groups, got \[2,3,3,3\]/);
  assert.throws(() => conv2d(x, RingTensor.zeros([3, 2, 3, 3]), { groups: 2 }), /"groups" = 2 must divide/);
  assert.throws(() => conv2d(x, RingTensor.zeros([2, 4, 7, 7])), /spatial size 5x5 \(padded 5x5\) is smaller than the dilated kernel 7x7/);
  assert.throws(() => conv2d(x, RingTensor.zeros([2, 4, 3, 3]), { stride: 0 }), /"stride" expected an integer in \[1,/);
  assert.throws(() => conv2d(RingTensor.zeros([4, 5, 5]), RingTensor.zeros([2, 4, 3, 3])), /"x" expected shape \[N,C,H,W\], got \[4,5,5\]/);
});

test.run();
