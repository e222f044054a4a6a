/**
 * The plaintext reference for a secure run: the float32 model (same weights, same patch spec) on the
 * same images. Only the machine that holds both the weights and the images can run it: a local
 * three-process demo, or a test.
 * @module
 */
import { forward } from '@si/models';
import { graphOf, loadSpec, loadWeights } from './models.ts';
import { loadInput, type InputSource } from './input.ts';
import { loadManifest } from './models.ts';
import { shapeSize } from '@si/ring';
import { upsampleLabels } from './labels.ts';

/**
 * Top-1 class per image of the float32 model (per pixel, each image's map in order, for segmentation,
 * enlarged to the input's resolution as the client enlarges the secure one).
 */
export function plaintextPredictions(o: { model: string; weights: string; spec?: string; input: InputSource; manifest?: string; batch?: number }): number[] {
  const graph = graphOf(o.model);
  const params = loadWeights(graph, o.weights);
  const spec = loadSpec(graph, o.spec);
  const { x, count } = loadInput(graph, o.input, loadManifest(o.model, graph, o.manifest));
  const per = shapeSize(graph.inputShape);
  const [classes, ...spatial] = graph.node(graph.output).shape as number[];
  const inner = shapeSize(spatial);
  const B = o.batch ?? 32;
  const out: number[] = [];
  for (let s = 0; s < count; s += B) {
    const n = Math.min(B, count - s);
    const y = forward(graph, params, x.subarray(s * per, (s + n) * per), n, { spec: spec?.layers, keep: false }).out;
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < inner; k++) {
        const at = (c: number) => y[(i * classes! + c) * inner + k]!;
        let best = 0;
        for (let c = 1; c < classes!; c++) if (at(c) > at(best)) best = c;
        out.push(best);
      }
    }
  }
  const [, H, W] = graph.inputShape as [number, number, number];
  if (spatial.length === 2 && (spatial[0] !== H || spatial[1] !== W)) return upsampleLabels(out, count, spatial as [number, number], [H, W]);
  return out;
}
