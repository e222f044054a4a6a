/**
 * Saving and loading a graph's parameters as safetensors. Loading checks that every parameter the graph
 * needs is present with its shape and that the file has nothing the graph does not use.
 * @module
 */
import type { Graph } from '../graph.ts';
import type { Params } from '../ops/op.ts';
import { readSafetensors, SafetensorsError, writeSafetensors } from './safetensors.ts';

export function saveParams(graph: Graph, params: Params, metadata: Record<string, string> = {}): Uint8Array {
  return writeSafetensors(graph.params().map((p) => {
    const data = params.get(p.name);
    if (!data) throw new SafetensorsError(`parameter "${p.name}" is missing`);
    return [p.name, { shape: p.shape, data }] as [string, { shape: number[]; data: Float32Array }];
  }), { format: 'si-model', model: graph.name, ...metadata });
}

/** @throws {SafetensorsError} for a malformed file, a missing or mis-shaped parameter, or an unused tensor */
export function loadParams(graph: Graph, bytes: Uint8Array): { params: Params; metadata: Record<string, string> } {
  const { tensors, metadata } = readSafetensors(bytes);
  const params: Params = new Map();
  for (const p of graph.params()) {
    const t = tensors.get(p.name);
    if (!t) throw new SafetensorsError(`model "${graph.name}" needs "${p.name}" [${p.shape.join(',')}], which the file does not have`);
    if (t.shape.join() !== p.shape.join()) throw new SafetensorsError(`"${p.name}" has shape [${t.shape.join(',')}], model "${graph.name}" needs [${p.shape.join(',')}]`);
    params.set(p.name, t.data);
    tensors.delete(p.name);
  }
  if (tensors.size) throw new SafetensorsError(`the file has tensors model "${graph.name}" does not use: ${[...tensors.keys()].slice(0, 5).join(', ')}${tensors.size > 5 ? ', …' : ''}`);
  return { params, metadata };
}
