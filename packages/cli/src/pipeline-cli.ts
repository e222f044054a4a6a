/**
 * The paper's method on Fashion-MNIST as commands: si data, si train, si distortion, si knapsack,
 * si finetune, si eval.
 * @module
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { saveParams } from '@si/models';
import { ensureFashion, fashionDir, loadFashion } from './fashion.ts';
import { graphOf, loadSpec, loadWeights } from './models.ts';
import { predict, train } from '@si/models';
import { fmtBytes, fmtSeconds, Progress } from './progress.ts';
import { compareTables, measureDistortion, parseTable, specFromTable, type DistortionMethod } from '@si/models';
import { evaluate } from './evaluate.ts';
import { demo } from './demo.ts';
import { dreluCount } from './party.ts';
import { parseTask, score, scoreName, taskData, taskOfGraph, TASKS, type Task } from './tasks.ts';

/** The task and model of a command: --task (default classification) and --model (default the task's network), checked against each other. */
function taskModel(o: { task?: string; model?: string }): { task: Task; model: string } {
  const task = parseTask(o.task ?? 'classification'), model = o.model ?? TASKS[task].model;
  const graphTask = taskOfGraph(graphOf(model));
  if (graphTask !== task) throw new InvalidArgumentError(`model "${model}" is a ${graphTask} network; --task ${task} needs one like ${TASKS[task].model}`);
  return { task, model };
}
const TASK_HELP = 'classification (Fashion-MNIST images) or segmentation (Fashion-MNIST scenes: 64x64, 2-4 items, 11 classes)';
const MODEL_HELP = 'architecture (default: fmnist-resnet, or fmnist-scenes for --task segmentation)';
import { stringifySpec } from '@si/patch-relu';

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
        const tr = loadFashion('train', { dir }), te = loadFashion('test', { dir });
        console.log(`Fashion-MNIST in ${dir}: ${tr.N.toLocaleString('en-US')} training and ${te.N.toLocaleString('en-US')} test images, 28x28, 10 classes`);
      } catch (e) {
        fail(e);
      }
    });

  program.command('train')
    .description('train a Fashion-MNIST network with the float engine and save its weights (safetensors)')
    .option('--task <t>', TASK_HELP, 'classification')
    .option('--model <name>', MODEL_HELP)
    .option('--epochs <n>', 'epochs', int('--epochs', 1), 6)
    .option('--steps <n>', 'stop after this many steps (a short run)', int('--steps', 1))
    .option('--batch <n>', 'batch size', int('--batch', 1), 64)
    .option('--lr <x>', 'peak learning rate (cosine schedule, nesterov momentum 0.9, weight decay 5e-4)', num('--lr'), 0.1)
    .option('--seed <s>', 'seed of the initialisation, shuffling and augmentation', '0')
    .option('--data <dir>', 'Fashion-MNIST directory')
    .option('--test-count <n>', 'test images to evaluate on', int('--test-count', 1))
    .requiredOption('--out <file>', 'where to write the weights')
    .action(async (o: { task: string; model?: string; epochs: number; steps?: number; batch: number; lr: number; seed: string; data?: string; testCount?: number; out: string }) => {
      try {
        const { initParams } = await import('@si/models');
        const dir = ensureFashion(o.data);
        const { task, model } = taskModel(o);
        const graph = graphOf(model);
        const data = taskData(task, 'train', { dir }), test = taskData(task, 'test', { dir, count: o.testCount });
        const params = initParams(graph, `train/${o.seed}`);
        console.error(`si train: ${model}, ${data.N} training ${task === 'classification' ? 'images' : 'scenes'}, ${o.epochs} epochs of ${Math.floor(data.N / o.batch)} steps (batch ${o.batch}), lr ${o.lr}, seed ${o.seed}`);
        const bar = { p: undefined as Progress | undefined };
        const evaluate = () => score(task, predict(graph, params, test.x, test.N), test.labels);
        const save = (acc: number) => writeOut(o.out, saveParams(graph, params, {
          model, [`test_${scoreName(task)}`]: acc.toFixed(4), test_images: String(test.N),
          command: `si train --task ${task} --model ${model} --epochs ${o.epochs} --batch ${o.batch} --lr ${o.lr} --seed ${o.seed}${o.steps ? ` --steps ${o.steps}` : ''}`,
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
            console.error(`epoch ${epoch + 1}: train ${task === 'classification' ? 'accuracy' : 'pixel accuracy'} ${(100 * last).toFixed(2)}%, test ${scoreName(task)} ${(100 * acc).toFixed(2)}% (${fmtSeconds(seconds)}); saved ${o.out}`);
          },
        });
        const acc = evaluate();
        save(acc);
        console.log(JSON.stringify({ model, steps: r.steps, train_loss: +r.loss.toFixed(4), [task === 'classification' ? 'test_accuracy' : 'test_miou']: acc, test_images: test.N, out: o.out }));
      } catch (e) {
        fail(e);
      }
    });

  program.command('accuracy')
    .description('plaintext float32 accuracy (segmentation: mean IoU) of a model, optionally with a patch spec, on the test split')
    .option('--task <t>', TASK_HELP, 'classification')
    .option('--model <name>', MODEL_HELP)
    .requiredOption('--weights <source>', 'file:PATH (safetensors)')
    .option('--spec <spec>', 'relu or file:PATH', 'relu')
    .option('--data <dir>', 'Fashion-MNIST directory')
    .option('--count <n>', 'test images', int('--count', 1))
    .action((o: { task: string; model?: string; weights: string; spec: string; data?: string; count?: number }) => {
      try {
        const dir = ensureFashion(o.data);
        const { task, model } = taskModel(o);
        const graph = graphOf(model), params = loadWeights(graph, o.weights), spec = loadSpec(graph, o.spec);
        const test = taskData(task, 'test', { dir, count: o.count });
        const { drelus, relus } = dreluCount(graph, spec);
        const acc = score(task, predict(graph, params, test.x, test.N, { spec: spec?.layers }), test.labels);
        console.log(JSON.stringify({ images: test.N, [task === 'classification' ? 'accuracy' : 'miou']: acc, drelus, relus, data: fashionDir(dir) }));
      } catch (e) {
        fail(e);
      }
    });

  program.command('distortion')
    .description('per (ReLU layer, channel, patch size) distortion of the logits on calibration images (training split)')
    .option('--task <t>', TASK_HELP, 'classification')
    .option('--model <name>', MODEL_HELP)
    .requiredOption('--weights <source>', 'file:PATH (safetensors)')
    .option('--method <m>', 'exact (the definition: one pass per entry) or fast (first order: a few backward passes per image)', 'exact')
    .option('--images <n>', 'calibration images', int('--images', 1), 16)
    .option('--probes <n>', 'fast: backward passes per image (default: one per class)', int('--probes', 1))
    .option('--layers <list>', 'only these ReLU layers (comma-separated)')
    .option('--channels <n>', 'only the first n channels of each layer', int('--channels', 1))
    .option('--seed <s>', 'which training images calibrate', '0')
    .option('--data <dir>', 'Fashion-MNIST directory')
    .requiredOption('--out <file>', 'where to write the table (JSON)')
    .action((o: { task: string; model?: string; weights: string; method: string; images: number; probes?: number; layers?: string; channels?: number; seed: string; data?: string; out: string }) => {
      try {
        if (o.method !== 'exact' && o.method !== 'fast') throw new InvalidArgumentError(`--method must be exact or fast, got "${o.method}"`);
        const dir = ensureFashion(o.data);
        const { task, model } = taskModel(o);
        const graph = graphOf(model), params = loadWeights(graph, o.weights);
        const start = Math.floor(Number.parseInt(o.seed, 36) * 7919 % Math.max(1, (task === 'classification' ? 60000 : 20000) - o.images)) || 0;
        const data = taskData(task, 'train', { dir, start, count: o.images });
        let bar: Progress | undefined;
        const t = measureDistortion(graph, params, {
          method: o.method as DistortionMethod, x: data.x, M: data.N, probes: o.probes, channels: o.channels, seed: o.seed,
          layers: o.layers?.split(',').map((l) => l.trim()),
          onProgress: (done, total, seconds) => ((bar ??= new Progress(`distortion (${o.method})`, total, ['entry', 'entries'])), (done % 50 === 0 || done === total) && bar.update(done, seconds)),
        });
        writeOut(o.out, JSON.stringify(t));
        const entries = t.layers.reduce((s, l) => s + l.values.filter(Boolean).length * l.sizes.length, 0);
        console.log(JSON.stringify({ method: t.method, images: t.images, layers: t.layers.length, entries, seconds: +t.seconds.toFixed(2), out: o.out }));
      } catch (e) {
        fail(e);
      }
    });

  program.command('compare-distortion')
    .description('rank correlation (Spearman) per layer between two distortion tables, e.g. fast against exact, and their times')
    .argument('<reference>', 'table (usually exact)')
    .argument('<other>', 'table (usually fast)')
    .option('--json', 'one JSON object')
    .action((a: string, b: string, o: { json?: boolean }) => {
      try {
        const ta = parseTable(readFileSync(a, 'utf8'), a), tb = parseTable(readFileSync(b, 'utf8'), b);
        const rows = compareTables(ta, tb);
        if (!rows.length) throw new Error('the tables share no measured entries');
        const mean = rows.reduce((s, r) => s + r.rho, 0) / rows.length;
        const out = { layers: rows, mean_rho: mean, seconds: { [ta.method]: ta.seconds, [tb.method]: tb.seconds }, speedup: ta.seconds / tb.seconds };
        if (o.json) return console.log(JSON.stringify(out));
        for (const r of rows) console.log(`${r.layer.padEnd(14)} ${String(r.entries).padStart(6)} entries  rho ${r.rho.toFixed(3)}`);
        console.log(`mean rho ${mean.toFixed(3)}; ${ta.method} ${fmtSeconds(ta.seconds)}, ${tb.method} ${fmtSeconds(tb.seconds)} (${(ta.seconds / tb.seconds).toFixed(1)}x)`);
      } catch (e) {
        fail(e);
      }
    });

  program.command('knapsack')
    .description('choose a patch size per channel minimising the summed distortion under a DReLU budget; write the spec')
    .option('--task <t>', TASK_HELP, 'classification')
    .option('--model <name>', MODEL_HELP)
    .requiredOption('--distortion <file>', 'a table from si distortion (all layers and channels)')
    .requiredOption('--budget <b>', 'a fraction of the network\'s ReLUs (0 < b <= 1) or an absolute DReLU count (> 1)', num('--budget'))
    .requiredOption('--out <file>', 'where to write the spec (JSON)')
    .action((o: { task: string; model?: string; distortion: string; budget: number; out: string }) => {
      try {
        const graph = graphOf(taskModel(o).model), total = graph.reluLayers().reduce((s, l) => s + l.relus, 0);
        if (o.budget > 1 && !Number.isInteger(o.budget)) throw new InvalidArgumentError('an absolute --budget must be an integer DReLU count');
        const budget = o.budget <= 1 ? Math.floor(o.budget * total) : o.budget;
        const r = specFromTable(graph, parseTable(readFileSync(o.distortion, 'utf8'), o.distortion), budget);
        writeOut(o.out, stringifySpec(r.spec));
        for (const l of r.perLayer) console.error(`${l.name.padEnd(14)} ${String(l.drelus).padStart(7)} / ${String(l.relus).padStart(6)} DReLUs (${((100 * l.drelus) / l.relus).toFixed(1)}%)`);
        console.log(JSON.stringify({ budget, drelus: r.drelus, relus: total, fraction: r.drelus / total, distortion: r.distortion, gap: r.gap, out: o.out }));
      } catch (e) {
        fail(e);
      }
    });

  program.command('finetune')
    .description('fine-tune a network with patch ReLUs in place (straight-through gradients); accuracy (segmentation: mean IoU) before and after')
    .option('--task <t>', TASK_HELP, 'classification')
    .option('--model <name>', MODEL_HELP)
    .requiredOption('--weights <source>', 'file:PATH (safetensors)')
    .requiredOption('--spec <spec>', 'file:PATH (a spec from si knapsack)')
    .option('--epochs <n>', 'epochs of the cosine schedule', int('--epochs', 0), 1)
    .option('--steps <n>', 'steps to run (instead of --epochs)', int('--steps', 1))
    .option('--batch <n>', 'batch size', int('--batch', 1), 64)
    .option('--lr <x>', 'peak learning rate (cosine)', num('--lr'), 0.01)
    .option('--seed <s>', 'seed of shuffling and augmentation', '0')
    .option('--teacher <source>', 'distil from this all-ReLU network (file:PATH), e.g. the one the spec was measured on')
    .option('--temperature <t>', 'distillation temperature', num('--temperature'), 4)
    .option('--kd-weight <w>', 'weight of the distillation loss (the rest is cross-entropy)', num('--kd-weight'), 0.7)
    .option('--swa-epochs <n>', 'then average the weights at the ends of this many epochs at rate --swa-lr (stochastic weight averaging; batch-norm statistics are recomputed)', int('--swa-epochs', 1))
    .option('--swa-lr <x>', 'learning rate of the averaging epochs', num('--swa-lr'), 0.005)
    .option('--swa-cyclic', 'each averaging epoch a cosine from --swa-lr down to 0 (average the low-rate ends) instead of a constant rate')
    .option('--data <dir>', 'Fashion-MNIST directory')
    .option('--test-count <n>', 'test images to evaluate on', int('--test-count', 1))
    .requiredOption('--out <file>', 'where to write the fine-tuned weights')
    .action((o: { task: string; model?: string; weights: string; spec: string; epochs: number; steps?: number; batch: number; lr: number; seed: string; teacher?: string; temperature: number; kdWeight: number; swaEpochs?: number; swaLr: number; swaCyclic?: boolean; data?: string; testCount?: number; out: string }) => {
      try {
        const dir = ensureFashion(o.data);
        const { task, model } = taskModel(o);
        const graph = graphOf(model), params = loadWeights(graph, o.weights);
        const spec = loadSpec(graph, o.spec);
        if (!spec) throw new InvalidArgumentError('--spec relu has nothing to fine-tune');
        if (o.kdWeight > 1) throw new InvalidArgumentError('--kd-weight must be at most 1');
        if (o.epochs === 0 && !o.steps && !o.swaEpochs) throw new InvalidArgumentError('--epochs 0 leaves nothing to run without --swa-epochs');
        const teacher = o.teacher ? { params: loadWeights(graph, o.teacher), temperature: o.temperature, weight: o.kdWeight } : undefined;
        const data = taskData(task, 'train', { dir }), test = taskData(task, 'test', { dir, count: o.testCount });
        const acc = () => score(task, predict(graph, params, test.x, test.N, { spec: spec.layers }), test.labels);
        const plain = score(task, predict(graph, params, test.x, test.N), test.labels);
        const before = acc();
        console.error(`si finetune: ${scoreName(task)} of these weights with all ReLUs ${(100 * plain).toFixed(2)}%, with the spec before fine-tuning ${(100 * before).toFixed(2)}% on ${test.N} test ${task === 'classification' ? 'images' : 'scenes'}`);
        let bar: Progress | undefined;
        const r = train(graph, params, data, {
          epochs: o.epochs, batch: o.batch, lr: o.lr, seed: o.seed, maxSteps: o.steps, spec: spec.layers, warmup: 0, teacher,
          swa: o.swaEpochs ? { epochs: o.swaEpochs, lr: o.swaLr, cyclic: o.swaCyclic } : undefined,
          onStep: (s) => ((bar ??= new Progress('finetune', s.steps, ['step', 'steps'])), (s.step % 20 === 0 || s.step === s.steps) && bar.update(s.step, s.seconds)),
        });
        const after = acc();
        writeOut(o.out, saveParams(graph, params, {
          model, spec: o.spec, [`test_${scoreName(task)}`]: after.toFixed(4), test_images: String(test.N),
          command: `si finetune --task ${task} --model ${model} --weights ${o.weights} --spec ${o.spec} --epochs ${o.epochs} --lr ${o.lr} --seed ${o.seed}${o.steps ? ` --steps ${o.steps}` : ''}${o.teacher ? ` --teacher ${o.teacher} --temperature ${o.temperature} --kd-weight ${o.kdWeight}` : ''}${o.swaEpochs ? ` --swa-epochs ${o.swaEpochs} --swa-lr ${o.swaLr}${o.swaCyclic ? ' --swa-cyclic' : ''}` : ''}`,
        }));
        console.log(JSON.stringify({ weights: o.weights, steps: r.steps, relu_acc: plain, before, after, test_images: test.N, teacher: o.teacher ?? null, swa_epochs: o.swaEpochs ?? 0, out: o.out }));
      } catch (e) {
        fail(e);
      }
    });

  program.command('eval')
    .description('accuracy on Fashion-MNIST test images (segmentation: mean IoU on the test scenes): float32, the fixed-point twin, and with --secure the three-party run over TLS')
    .option('--task <t>', TASK_HELP, 'classification')
    .option('--model <name>', `${MODEL_HELP}; for segmentation also fmnist-scenes-head (the secure argmax at 16x16)`)
    .requiredOption('--weights <source>', 'file:PATH (safetensors)')
    .option('--spec <spec>', 'relu or file:PATH', 'relu')
    .option('--secure', 'also run secure inference (client, server, helper as local processes over TLS)')
    .option('--mode <mode>', 'comparison mode of the secure run', 'small16')
    .option('--start <i>', 'first test image', int('--start'), 0)
    .option('--limit <n>', 'number of test images (default: all 10,000)', int('--limit', 1))
    .option('--batch <n>', 'images per batch', int('--batch', 1), 25)
    .option('--data <dir>', 'Fashion-MNIST directory')
    .option('--json', 'print one JSON summary object')
    .option('--out <file>', 'also write the summary (JSON) to a file')
    .action(async (o: { task: string; model?: string; weights: string; spec: string; secure?: boolean; mode: string; start: number; limit?: number; batch: number; data?: string; json?: boolean; out?: string }) => {
      try {
        const dir = ensureFashion(o.data);
        const { task, model } = taskModel(o);
        let twinBar: Progress | undefined, secBar: Progress | undefined;
        const t0 = performance.now();
        const r = await evaluate({
          model, weights: o.weights, spec: o.spec, data: dir, start: o.start, limit: o.limit, secure: o.secure, mode: o.mode, batch: o.batch,
          onTwin: (done, total) => ((twinBar ??= new Progress('fixed-point twin', total, ['image', 'images'])), twinBar.update(done, (performance.now() - t0) / 1000)),
          onSecureBatch: (done, total, seconds) => ((secBar ??= new Progress('secure inference', total)), secBar.update(done, seconds)),
        });
        if (o.out) writeOut(o.out, JSON.stringify(r, null, 1));
        if (o.json) return console.log(JSON.stringify(r));
        const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
        const what = task === 'classification' ? '' : ' mIoU';
        console.log(`${task === 'classification' ? 'images' : 'scenes'}       ${r.images} (test split from ${o.start})`);
        console.log(`DReLUs       ${r.drelus.toLocaleString('en-US')} of ${r.relus.toLocaleString('en-US')} ReLUs (${pct(r.drelus / r.relus)})`);
        console.log(`float32      ${pct(r.float_acc)}${what}`);
        console.log(`fixed point  ${pct(r.plain_acc)}${what}`);
        if (r.secure_acc !== undefined) {
          const same = r.pixel_agreement !== undefined ? `pixels equal to the fixed-point twin: ${pct(r.pixel_agreement)} (${r.disagreements!.length} scenes with any pixel different)` : `top-1 equal to the fixed-point twin on ${pct(r.agreement!)} (${r.disagreements!.length} differ${r.disagreements!.length ? `: ${r.disagreements!.slice(0, 10).join(', ')}` : ''})`;
          console.log(`secure       ${pct(r.secure_acc)}${what}; ${same}`);
          console.log(`traffic      ${fmtBytes(r.bytes_per_image!)} per image (all parties; the all-ReLU network: ${fmtBytes(r.full_relu_bytes_per_image!)}, ${(r.full_relu_bytes_per_image! / r.bytes_per_image!).toFixed(2)}x); one-time setup ${fmtBytes(r.setup_bytes!)}`);
          console.log(`time         ${fmtSeconds(r.seconds!)} (${r.images_per_second!.toFixed(1)} images/s)`);
        }
      } catch (e) {
        fail(e);
      }
    });

  program.command('demo')
    .description('the main demo: plaintext accuracy of the shipped Fashion-MNIST network and its 6% spec, then secure inference on test images')
    .option('--images <n>', 'test images to run securely', int('--images', 1), 300)
    .option('--data <dir>', 'Fashion-MNIST directory')
    .action(async (o: { images: number; data?: string }) => {
      try {
        await demo(o);
      } catch (e) {
        fail(e);
      }
    });
}
