/**
 * `si demo` (the README's main command): Fashion-MNIST, the shipped network and its shipped 6% DReLU spec,
 * plaintext accuracy, then secure inference on test images with the client, server and helper as three
 * local processes over TLS, against the all-ReLU network's traffic.
 * @module
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadParams } from '@si/models';
import { ensureFashion, loadFashion } from './fashion.ts';
import { graphOf, loadSpec } from './models.ts';
import { accuracy, predict } from '@si/models';
import { evaluate } from './evaluate.ts';
import { fmtBytes, fmtSeconds, Progress } from './progress.ts';
import { dreluCount } from './party.ts';

/** Files shipped with the package (see assets/README.md for the commands that made them). */
export const ASSETS = {
  weights: asset('fmnist-resnet.safetensors'),
  weights6: asset('fmnist-resnet-6pct.safetensors'),
  spec6: asset('fmnist-resnet-6pct.spec.json'),
};

function asset(name: string): string {
  return fileURLToPath(new URL(`../assets/${name}`, import.meta.url));
}

export async function demo(o: { images: number; data?: string; out?: (s: string) => void }): Promise<void> {
  const say = o.out ?? ((s: string) => console.log(s));
  const t0 = performance.now();
  const dir = ensureFashion(o.data, say);
  const graph = graphOf('fmnist-resnet');
  const test = loadFashion('test', { dir });
  say(`Fashion-MNIST: ${test.N.toLocaleString('en-US')} test images from ${dir}`);

  const base = loadParams(graph, readFileSync(ASSETS.weights));
  const tuned = loadParams(graph, readFileSync(ASSETS.weights6));
  const spec = loadSpec(graph, `file:${ASSETS.spec6}`)!;
  const { drelus, relus } = dreluCount(graph, spec);
  say(`network: fmnist-resnet, ${relus.toLocaleString('en-US')} ReLUs per image; the 6% spec keeps ${drelus.toLocaleString('en-US')} DReLUs (${((100 * drelus) / relus).toFixed(2)}%) in patches chosen by the knapsack`);

  say(`secure inference on the first ${o.images} test images starts: client, server and helper as three processes over TLS 1.3 (mutual authentication), small-ring k=16 sign tests`);
  let sec: Progress | undefined, connected!: () => void;
  const ready = new Promise<void>((resolve) => (connected = resolve));
  const secure = evaluate({
    model: 'fmnist-resnet', weights: `file:${ASSETS.weights6}`, spec: `file:${ASSETS.spec6}`, data: dir, limit: o.images, secure: true, mode: 'small16', batch: 25,
    onSecureBatch: (done, total, seconds) => ((sec ??= new Progress('secure inference', total)), sec.update(done, seconds)),
    onConnected: () => connected(),
  });
  await Promise.race([ready, secure.then(() => {}, () => {})]); // the parties connect before this process gets busy
  // Meanwhile (the parties are their own processes), plaintext accuracy on the whole test split.
  const bar = new Progress('plaintext accuracy', 2 * test.N, ['image', 'images']);
  const accBase = accuracy(predict(graph, base.params, test.x, test.N, { onBatch: (d) => bar.update(d, (performance.now() - t0) / 1000) }), test.labels);
  const accSpec = accuracy(predict(graph, tuned.params, test.x, test.N, { spec: spec.layers, onBatch: (d) => bar.update(test.N + d, (performance.now() - t0) / 1000) }), test.labels);
  say(`plaintext float32 accuracy on all ${test.N.toLocaleString('en-US')} test images: all ReLUs ${pct(accBase)}, 6% DReLUs (fine-tuned) ${pct(accSpec)}`);
  const r = await secure;
  say('');
  say(`secure accuracy      ${pct(r.secure_acc!)} on ${r.images} images (plaintext fixed point: ${pct(r.plain_acc)}; float32: ${pct(r.float_acc)})`);
  say(`revealed             ${r.reveal === 'label' ? 'the label only: the client learned each image\'s top-1 class from a secure argmax, never the logits' : r.reveal}`);
  say(`secure = plaintext   top-1 equal on ${r.images - r.disagreements!.length}/${r.images} images`);
  say(`traffic per image    ${fmtBytes(r.bytes_per_image!)} (all parties) against ${fmtBytes(r.full_relu_bytes_per_image!)} for the all-ReLU network: ${(r.full_relu_bytes_per_image! / r.bytes_per_image!).toFixed(2)}x less`);
  say(`time                 ${fmtSeconds(r.seconds!)} for ${r.images} images (${r.images_per_second!.toFixed(1)} images/s), weight setup once: ${fmtBytes(r.setup_bytes!)}`);
  say(`demo finished in ${fmtSeconds((performance.now() - t0) / 1000)}`);
}

const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
