import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkView, closeAll, TRANSPORTS, type Trio } from '@si/sharing/testing';
import { patchClip, patchRelu } from '../src/index.ts';

// The sign test's k-bit values ("z") fill their bytes only in small-ring modes with 8 | k (see the same
// rule in @si/relu-protocols' view test); PrivateCompare's and the carry comparison's Z_p digits never do.
const uniform = (tag: string, o: { mode: { mode: string; keepBits?: number } }) =>
  tag !== 'd' && tag !== 'c' && !tag.endsWith('zpbits') && !(tag === 'z' && o.mode.mode !== 'full' && (o.mode.mode === 'paper' || o.mode.keepBits! % 8 !== 0));

test('patch ReLU and patch clip: no received message depends on the inputs (mixed patch sizes, identity and zero channels)', async () => {
  const ps = (await TRANSPORTS[0]![1]()) as Trio;
  try {
    const relu = await checkView(patchRelu, { parties: ps, trials: 4, uniform });
    assert.ok(relu.messages > 0, patchRelu.name);
    const clip = await checkView(patchClip, { parties: ps, trials: 4, uniform });
    assert.ok(clip.messages > 0, patchClip.name);
  } finally {
    closeAll(ps);
  }
});

test.run();
