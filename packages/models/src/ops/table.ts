/**
 * The op table: every node kind the graph IR knows, by name. registerOp adds one (a user's own op, or
 * the built-ins below); opDef looks one up.
 * @module
 */
import type { OpName } from '../graph.ts';
import type { AnyOp, OpDef } from './op.ts';

const TABLE = new Map<string, AnyOp>();

/** Adds an op to the table. @throws {Error} when its name is taken */
export function registerOp<K extends OpName>(d: OpDef<K>): OpDef<K> {
  if (TABLE.has(d.op)) throw new Error(`op "${d.op}" is already registered`);
  TABLE.set(d.op, d as unknown as AnyOp);
  return d;
}

/** The definition of an op. @throws {Error} for an op no file registered */
export function opDef<K extends OpName>(op: K): OpDef<K> {
  const d = TABLE.get(op);
  if (!d) throw new Error(`unknown op "${op}" (registered: ${[...TABLE.keys()].join(', ')})`);
  return d as unknown as OpDef<K>;
}
