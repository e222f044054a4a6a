import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkView, closeAll, TRANSPORTS, type AnyProtocol, type Trio } from '@si/sharing/testing';
import { argmax, argmaxShallow, clip, computeMsb, drelu, dreluSecureNN, ge, gt, max, maxpool, msb, mulBit, privateCompare, carryCompare, relu, select, shareConvert, signTest, topk } from '../src/index.ts';

/**
 * Which messages are uniform bytes: not the Z_p digits of PrivateCompare ("d") or of the carry comparison ("c"), or the dealer's Z_p bit
 * shares ("…zpbits"), and not the sign test's k-bit values ("z") when they do not fill their bytes (paper
 * mode puts k bits at the top of a 64-bit word; small-ring with 8 ∤ k leaves high bits zero). Those are
 * still compared between the two inputs.
 */
function uniformTag(tag: string, params: unknown): boolean {
  if (tag === 'd' || tag === 'c' || tag.endsWith('zpbits')) return false;
  const mode = (params as { mode?: { mode: string; keepBits?: number } }).mode;
  if (tag === 'z' && mode && mode.mode !== 'full' && (mode.mode === 'paper' || mode.keepBits! % 8 !== 0)) return false;
  return true;
}

const RECORDS: AnyProtocol[] = [privateCompare, carryCompare, signTest, drelu, msb, relu, mulBit, select, ge, gt, max, argmax, argmaxShallow, topk, clip, maxpool, shareConvert, computeMsb, dreluSecureNN];

test('every protocol (DReLU in every mode among its examples): no received message depends on the inputs', async () => {
  const ps = (await TRANSPORTS[0]![1]()) as Trio;
  try {
    for (const rec of RECORDS) {
      const r = await checkView(rec, { parties: ps, trials: 4, uniform: uniformTag });
      assert.ok(r.messages > 0 && r.bytes > 0, `${rec.name}: ${r.messages} messages seen`);
    }
  } finally {
    closeAll(ps);
  }
});

test.run();
