#!/usr/bin/env node
/**
 * si-knapsack --instance in.json --out sol.json [--method fast|dp]
 * Reads an si-mckp instance, solves it exactly, writes the solution and prints a one-line summary.
 * @module
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseInstance, solve, type Method } from './index.ts';

const USAGE = 'usage: si-knapsack --instance in.json --out sol.json [--method fast|dp]';

function main(argv: string[]): number {
  let values: { instance?: string; out?: string; method?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { instance: { type: 'string' }, out: { type: 'string' }, method: { type: 'string', default: 'fast' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (e) {
    console.error(`si-knapsack: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(`${USAGE}\n\nSolves a multiple-choice knapsack exactly: one option per group, minimal total value, total cost <= budget.\n  --method fast  LP bound + reduced-cost fixing + core DP (default)\n  --method dp    dense DP over every cost (reference; refuses tables over 1 GiB)`);
    return 0;
  }
  if (!values.instance || !values.out) {
    console.error(`si-knapsack: --instance and --out are required\n${USAGE}`);
    return 2;
  }
  if (values.method !== 'fast' && values.method !== 'dp') {
    console.error(`si-knapsack: --method must be fast or dp, got ${values.method}`);
    return 2;
  }
  let text: string;
  try {
    text = readFileSync(values.instance, 'utf8');
  } catch (e) {
    console.error(`si-knapsack: cannot read ${values.instance}: ${(e as Error).message}`);
    return 1;
  }
  try {
    const t0 = performance.now();
    const sol = solve(parseInstance(text), { method: values.method as Method });
    const ms = performance.now() - t0;
    writeFileSync(values.out, JSON.stringify(sol));
    console.log(`${values.method}: value ${sol.value} cost ${sol.cost} bound ${sol.bound} gap ${sol.gap.toExponential(2)} in ${ms.toFixed(0)} ms -> ${values.out}`);
    return 0;
  } catch (e) {
    console.error(`si-knapsack: ${(e as Error).message}`);
    return 1;
  }
}

process.exitCode = main(process.argv.slice(2));
