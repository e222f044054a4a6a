import { test } from 'uvu';
import * as assert from 'uvu/assert';
import seedrandom from 'seedrandom';
import { distillation } from '../src/index.ts';

const r = seedrandom('kd');
const logits = (n: number) => Float32Array.from({ length: n }, () => (r() * 2 - 1) * 4);

test('distillation: the gradient is the derivative of the loss (central differences), mixed with cross-entropy by weight', () => {
  const B = 3, C = 5, T = 3;
  const s = logits(B * C), t = logits(B * C);
  const d = new Float32Array(B * C);
  distillation(s, t, C, T, 1, d);
  for (let i = 0; i < s.length; i++) {
    const h = 1e-2, up = Float32Array.from(s), down = Float32Array.from(s);
    up[i]! += h;
    down[i]! -= h;
    const fd = (distillation(up, t, C, T, 1) - distillation(down, t, C, T, 1)) / (2 * h);
    assert.ok(Math.abs(fd - d[i]!) < 1e-4, `element ${i}: finite difference ${fd}, gradient ${d[i]}`);
  }
  const ce = Float32Array.from({ length: B * C }, () => r());
  const mixed = Float32Array.from(ce);
  distillation(s, t, C, T, 0.25, mixed);
  for (let i = 0; i < s.length; i++) assert.ok(Math.abs(mixed[i]! - (0.75 * ce[i]! + 0.25 * d[i]!)) < 1e-6);
});

test('distillation: zero loss and zero gradient when the student equals the teacher', () => {
  const s = logits(20);
  const d = new Float32Array(20);
  assert.ok(Math.abs(distillation(s, Float32Array.from(s), 10, 4, 1, d)) < 1e-9);
  assert.ok(d.every((v) => Math.abs(v) < 1e-9));
});

test.run();
