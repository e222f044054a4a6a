/**
 * The two tasks of the method's pipeline on real data: classification of Fashion-MNIST images, and
 * segmentation of Fashion-MNIST scenes (scenes.ts). A network's task follows from its output: one class
 * per image, or a class per pixel. The data of a split and the score (accuracy, or mean IoU) by task.
 * @module
 */
import type { Dataset, Graph } from '@si/models';
import { accuracy } from '@si/models';
import { loadFashion, type Split } from './fashion.ts';
import { makeScenes, meanIoU, SCENE_CLASSES } from './scenes.ts';

export type Task = 'classification' | 'segmentation';

export const TASKS: Record<Task, { model: string; what: string }> = {
  classification: { model: 'fmnist-resnet', what: 'Fashion-MNIST images' },
  segmentation: { model: 'fmnist-scenes', what: 'Fashion-MNIST scenes (64x64, 2-4 items, 11 classes)' },
};

/** Scenes per split by default: training scenes made on the fly, and the fixed test set. */
const SCENES = { train: 20_000, test: 1_000 } as const;

export function parseTask(v: string): Task {
  if (v !== 'classification' && v !== 'segmentation') throw new Error(`--task must be classification or segmentation, got "${v}"`);
  return v;
}

/** The task a network is for (its output shape). */
export function taskOfGraph(g: Graph): Task {
  return g.outputShape.length === 3 ? 'segmentation' : 'classification';
}

/** A split of the task's data (a part of it with start and count). */
export function taskData(task: Task, split: Split, o: { dir?: string; start?: number; count?: number } = {}): Dataset {
  if (task === 'classification') return loadFashion(split, o);
  return makeScenes(loadFashion(split, { dir: o.dir }), o.count ?? SCENES[split] - (o.start ?? 0), `scenes/${split}`, o.start ?? 0);
}

/** The task's score of predictions: top-1 accuracy, or mean IoU over the classes present. */
export function score(task: Task, pred: ArrayLike<number>, labels: ArrayLike<number>): number {
  return task === 'classification' ? accuracy(pred, labels) : meanIoU(pred, labels, SCENE_CLASSES.length).miou;
}

export const scoreName = (task: Task) => (task === 'classification' ? 'accuracy' : 'mIoU');
