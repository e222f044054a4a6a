/**
 * @si/images: what turns a user's image into a secure run's input, and its answer into something to read.
 * This entry point is pure TypeScript (manifests, preprocessing, label-map pictures); `@si/images/node`
 * adds file decoding and PNG writing for Node.
 * @module
 */
export { parseManifest, validateManifest, className, ManifestError, type Manifest, type Transform, type Size } from './manifest.ts';
export { preprocess, toPlanes, resize, resizedSize, centerCrop, ImageError, type Pixels, type Planes } from './preprocess.ts';
export { labelColor, labelMapPixels, networkView, overlayPixels } from './labels.ts';
export { stackInputs } from './stack.ts';
