/**
 * The paper's method on Fashion-MNIST as commands: si data, si train, si distortion, si knapsack,
 * si finetune, si eval.
 * @module
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { saveParams } from '@si/models';
import { ensureFashion, fashionDir, loadFashion, missingFiles } from './fashion.ts';
import { graphOf, loadWeights } from './models.ts';
import { accuracy, predict, train } from './train.ts';
import { fmtSeconds, Progress } from './progress.ts';

const int = (what: string, min = 0) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${what} must be an integer >= ${min}`);
  return n;
};
const num = (what: string) => (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${what} must be a positive number`);
  return n;
};

function fail(e: unknown): never {
  console.error(`si: ${(e as Error).message ?? String(e)}`);
  process.exit(1);
}

function writeOut(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
}

export function addPipelineCommands(program: Command): void {
  program.command('data')
    .description('make sure Fashion-MNIST is present (installs the Debian package dataset-fashion-mnist when root), print where')
    .option('--data <dir>', 'directory with the four IDX files (default: $SI_FASHION_MNIST or /usr/share/datasets/fashion-mnist)')
    .action((o: { data?: string }) => {
      try {
        const dir = ensureFashion(o.data);
        const tr = loadFashion('train', { dir, count: 1 }), te = loadFashion('test', { dir, count: 1 });
        console.log(`Fashion-MNIST in ${dir}: train and test present (${missingFiles(dir).length} files missing); first labels ${tr.labels[0]} ${te.labels[0]}`);
      } catch (e) {
        fail(e);
      }
    });

  program.command('train')
    .description('train a Fashion-MNIST network with the float engine and save its weights (safetensors)')
    .option('--model <name>', 'architecture', 'fmnist-resnet')
    .option('--epochs <n>', 'epochs', int('--epochs', 1), 6)
    .option('--steps <n>', 'stop after this many steps (a short run)', int('--steps', 1))
    .option('--batch <n>', 'batch size', int('--batch', 1), 64)
    .option('--lr <x>', 'peak learning rate (cosine schedule, nesterov momentum 0.9, weight decay 5e-4)', num('--lr'), 0.1)
    .option('--seed <s>', 'seed of the initialisation, shuffling and augmentation', '0')
    .option('--data <dir>', 'Fashion-MNIST directory')
    .option('--test-count <n>', 'test images to evaluate on', int('--test-count', 1))
    .requiredOption('--out <file>', 'where to write the weights')
    .action(async (o: { model: string; epochs: number; steps?: number; batch: number; lr: number; seed: string; data?: string; testCount?: number; out: string }) => {
      try {
        const { initParams } = await import('@si/models');
        const dir = ensureFashion(o.data);
        const graph = graphOf(o.model);
        const data = loadFashion('train', { dir }), test = loadFashion('test', { dir, count: o.testCount });
        const params = initParams(graph, `train/${o.seed}`);
        console.error(`si train: ${o.model}, ${data.N} training images, ${o.epochs} epochs of ${Math.floor(data.N / o.batch)} steps (batch ${o.batch}), lr ${o.lr}, seed ${o.seed}`);
        const bar = { p: undefined as Progress | undefined };
        const evaluate = () => accuracy(predict(graph, params, test.x, test.N), test.labels);
        const save = (acc: number) => writeOut(o.out, saveParams(graph, params, {
          model: o.model, test_accuracy: acc.toFixed(4), test_images: String(test.N),
          command: `si train --model ${o.model} --epochs ${o.epochs} --batch ${o.batch} --lr ${o.lr} --seed ${o.seed}${o.steps ? ` --steps ${o.steps}` : ''}`,
        }));
        let last = 0;
        const r = train(graph, params, data, {
          epochs: o.epochs, batch: o.batch, lr: o.lr, seed: o.seed, maxSteps: o.steps,
          onStep: (s) => {
            bar.p ??= new Progress('train', s.steps, ['step', 'steps']);
            if (s.step % 20 === 0 || s.step === s.steps) bar.p.update(s.step, s.seconds);
            last = s.acc;
          },
          onEpoch: (epoch, seconds) => {
            const acc = evaluate();
            save(acc);
            console.error(`epoch ${epoch + 1}: train accuracy ${(100 * last).toFixed(2)}%, test accuracy ${(100 * acc).toFixed(2)}% (${fmtSeconds(seconds)}); saved ${o.out}`);
          },
        });
        const acc = evaluate();
        save(acc);
        console.log(JSON.stringify({ model: o.model, steps: r.steps, train_loss: +r.loss.toFixed(4), test_accuracy: acc, test_images: test.N, out: o.out }));
      } catch (e) {
        fail(e);
      }
    });

  program.command('accuracy')
    .description('plaintext float32 accuracy of a model (optionally with a patch spec) on Fashion-MNIST test images')
    .option('--model <name>', 'architecture', 'fmnist-resnet')
    .requiredOption('--weights <source>', 'file:PATH (safetensors)')
    .option('--data <dir>', 'Fashion-MNIST directory')
    .option('--count <n>', 'test images', int('--count', 1))
    .action((o: { model: string; weights: string; data?: string; count?: number }) => {
      try {
        const dir = ensureFashion(o.data);
        const graph = graphOf(o.model), params = loadWeights(graph, o.weights);
        const test = loadFashion('test', { dir, count: o.count });
        console.log(JSON.stringify({ images: test.N, accuracy: accuracy(predict(graph, params, test.x, test.N), test.labels), data: fashionDir(dir) }));
      } catch (e) {
        fail(e);
      }
    });
}
