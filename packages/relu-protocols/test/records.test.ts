import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkProtocol, closeAll, TRANSPORTS, type AnyProtocol } from '@si/sharing/testing';
import { argmax, argmaxShallow, topk, clip, computeMsb, drelu, signTest, dreluSecureNN, ge, gt, max, maxpool, msb, mulBit, privateCompare, carryCompare, relu, select, shareConvert } from '../src/index.ts';

// Every protocol @si/relu-protocols exports, through the generic checker (README: "Protocols").
const RECORDS: AnyProtocol[] = [privateCompare, carryCompare, signTest, drelu, msb, relu, mulBit, select, ge, gt, max, argmax, argmaxShallow, topk, clip, maxpool, shareConvert, computeMsb, dreluSecureNN];

for (const [transport, make] of TRANSPORTS) {
  test(`[${transport}] every protocol equals its twin on edge and random inputs, alone and two at once; ledger == declared`, async () => {
    const ps = await make();
    try {
      for (const rec of RECORDS) {
        const r = await checkProtocol(rec, { parties: ps, trials: transport === 'tls' ? 1 : 2, ...(transport === 'tls' ? { params: rec.examples.slice(0, 2) } : {}) });
        assert.ok(r.runs >= 3, `${rec.name}: ${r.runs} runs`);
      }
    } finally {
      closeAll(ps);
    }
  });
}

test.run();
