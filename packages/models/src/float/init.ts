/**
 * Seeded parameter initialisation (seedrandom: reproducible model init, never protocol randomness):
 * He-normal conv and linear weights, zero biases, batch norm with unit scale, zero shift, zero mean
 * and unit variance.
 * @module
 */
import seedrandom from 'seedrandom';
import type { Graph } from '../graph.ts';
import type { Params } from '../ops/op.ts';
import { shapeSize } from '@si/ring';

export function initParams(graph: Graph, seed: string | number = 0): Params {
  const r = seedrandom(`si-init/${graph.name}/${seed}`);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const params: Params = new Map();
  for (const p of graph.params()) {
    const n = shapeSize(p.shape);
    const t = new Float32Array(n);
    if (p.kind === 'weight') {
      const fanIn = shapeSize(p.shape.slice(1));
      const std = Math.sqrt(2 / fanIn);
      for (let i = 0; i < n; i++) t[i] = gauss() * std;
    } else if (p.kind === 'bn_weight' || p.kind === 'bn_var') t.fill(1);
    params.set(p.name, t);
  }
  return params;
}
