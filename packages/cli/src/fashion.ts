/**
 * Fashion-MNIST: where the files are (the Debian package `dataset-fashion-mnist`, or a directory given
 * with --data / SI_FASHION_MNIST), installing the package when that is possible, and loading a split.
 * @module
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { DataError, idxImages, idxLabels } from './data.ts';

export const DEBIAN_DIR = '/usr/share/datasets/fashion-mnist';
export const DEBIAN_PACKAGE = 'dataset-fashion-mnist';
export const CLASS_NAMES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'] as const;

const FILES = {
  train: ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz'],
  test: ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'],
} as const;

export type Split = keyof typeof FILES;

/** The data directory: the argument, else $SI_FASHION_MNIST, else the Debian package's directory. */
export function fashionDir(dir?: string): string {
  return dir ?? process.env.SI_FASHION_MNIST ?? DEBIAN_DIR;
}

/** The image and label files of a split (gzipped or not). */
export function fashionFiles(split: Split, dir?: string): { images: string; labels: string } {
  const d = fashionDir(dir);
  const pick = (name: string): string => {
    for (const f of [join(d, name), join(d, name.replace(/\.gz$/, ''))]) if (existsSync(f)) return f;
    return join(d, name);
  };
  return { images: pick(FILES[split][0]), labels: pick(FILES[split][1]) };
}

/** Missing files of the data set in a directory (empty when it is complete). */
function missingFiles(dir?: string): string[] {
  return (['train', 'test'] as const).flatMap((s) => Object.values(fashionFiles(s, dir))).filter((f) => !existsSync(f));
}

/**
 * Makes sure the data set is present: nothing to do when it is; installs the Debian package when the
 * default directory is used, apt-get exists and we are root; otherwise a DataError saying what to run.
 */
export function ensureFashion(dir?: string, log: (s: string) => void = (s) => process.stderr.write(`${s}\n`)): string {
  const d = fashionDir(dir);
  if (missingFiles(d).length === 0) return d;
  const howTo = `install it with: sudo apt-get install -y ${DEBIAN_PACKAGE}  (or pass --data DIR / set SI_FASHION_MNIST to a directory with the four IDX files)`;
  if (d !== DEBIAN_DIR) throw new DataError(`Fashion-MNIST is incomplete in ${d}: missing ${missingFiles(d).join(', ')}`);
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const apt = spawnSync('sh', ['-c', 'command -v apt-get'], { encoding: 'utf8' }).status === 0;
  if (!root || !apt) throw new DataError(`Fashion-MNIST is not installed (${d} is missing); ${howTo}`);
  log(`installing ${DEBIAN_PACKAGE} with apt-get ...`);
  let r = spawnSync('apt-get', ['install', '-y', '-q', DEBIAN_PACKAGE], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) {
    // A fresh machine may have no package lists yet.
    spawnSync('apt-get', ['update', '-q'], { stdio: 'ignore' });
    r = spawnSync('apt-get', ['install', '-y', '-q', DEBIAN_PACKAGE], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  }
  if (r.status !== 0 || missingFiles(d).length) throw new DataError(`apt-get install ${DEBIAN_PACKAGE} failed: ${(r.stderr ?? '').trim().split('\n').pop()}; ${howTo}`);
  return d;
}

/** Fashion-MNIST images [N, 1, 28, 28] in [0, 1] and their labels. */
export type { Dataset } from '@si/models';

import type { Dataset } from '@si/models';

/** A split, or part of it (start, count). */
export function loadFashion(split: Split, opts: { dir?: string; start?: number; count?: number } = {}): Dataset {
  const f = fashionFiles(split, opts.dir);
  const { x, shape } = idxImages(f.images, opts.start ?? 0, opts.count);
  const labels = idxLabels(f.labels, opts.start ?? 0, opts.count);
  if (labels.length !== shape[0]) throw new DataError(`${f.labels}: ${labels.length} labels for ${shape[0]} images`);
  if (shape[2] !== 28 || shape[3] !== 28) throw new DataError(`${f.images}: ${shape[2]}x${shape[3]} images, Fashion-MNIST is 28x28`);
  return { x, labels, N: shape[0] };
}
