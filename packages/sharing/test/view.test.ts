import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { beaver, HELPER, linearKnown, linearKnownSharedMask, protocol, rerandomize, reveal, Shared, shareInput, SERVER, truncate, truncateDealt, type Party } from '../src/index.ts';
import { checkView, closeAll, TRANSPORTS, type AnyProtocol, type Trio } from '../src/testing.ts';

// What each party receives must not depend on the secret inputs: every @si/sharing protocol through the
// view checker (a degenerate run with zero shares and edge values against a random one).
test('share input, truncation, Beaver, the server-known linear layer, rerandomize: no received message depends on the inputs', async () => {
  const ps = (await TRANSPORTS[0]![1]()) as Trio;
  try {
    const records: AnyProtocol[] = [shareInput, truncate, truncateDealt, beaver, linearKnown, linearKnownSharedMask, rerandomize];
    const seen: Record<string, number> = {};
    for (const rec of records) seen[rec.name] = (await checkView(rec, { parties: ps })).messages;
    // The protocols with messages were observed; share input (the other share comes from a PRF stream
    // the two hold), local truncation and rerandomize send nothing at all.
    for (const name of ['truncate-dealt', 'beaver', 'linear-known', 'linear-known-shared-mask']) assert.ok(seen[name]! > 0, `${name}: ${JSON.stringify(seen)}`);
    for (const name of ['share-input', 'truncate', 'rerandomize']) assert.is(seen[name], 0, `${name} sends nothing`);
  } finally {
    closeAll(ps);
  }
});

test('reveal: the opened share is uniform to its receiver, whatever the value (a share, not the value, is sent)', async () => {
  const ps = (await TRANSPORTS[0]![1]()) as Trio;
  try {
    // Zero shares would make the opening of 0 a constant message: that is the point of an opening.
    const r = await checkView(reveal, { parties: ps, zeroShares: false });
    assert.ok(r.messages > 0);
  } finally {
    closeAll(ps);
  }
});

test('the view checker catches leaks: a share sent as is, a value sent to the helper, a mask reused', async () => {
  const ps = (await TRANSPORTS[0]![1]()) as Trio;
  const leaky = (name: string, run: (p: Party, x: Shared) => Promise<Shared>) => protocol(run, {
    name, inputs: (o: { n: number }) => [{ shape: [o.n] }], run: (p, [x]) => run(p, x as Shared),
    clear: ([x]) => x!, cost: () => ({ bytes: {}, rounds: 0 }), examples: [{ n: 512 }],
  });
  // P1 sends its share to P0 unmasked (P0 then knows x).
  const shareToClient = leaky('share-to-client', async (p, x) => {
    if (p.id === SERVER) p.link(0).send('s', x.share!.data);
    if (p.id === 0) await p.link(1).recv('s', 8 * x.size);
    return x;
  });
  // P0 and P1 send the helper x + m with one mask m for all elements.
  const reusedMask = leaky('reused-mask', async (p, x) => {
    if (p.id === HELPER) (await p.link(0).recv('m', 8 * x.size), await p.link(1).recv('m', 8 * x.size));
    else p.link(HELPER).send('m', x.share!.addScalar(p.id === 0 ? 12345n : 0n).data);
    return x;
  });
  try {
    for (const rec of [shareToClient, reusedMask]) {
      const e = await checkView(rec, { parties: ps }).then(() => null, (err: Error) => err);
      assert.ok(e, `${rec.name} passed`);
      assert.match(e!.message, new RegExp(`"${rec.name}" case 0 .*: P\\d <- \\w+ "\\w" in / #0: its bytes are (distributed differently for the two inputs|not uniform)`));
    }
  } finally {
    closeAll(ps);
  }
});

test.run();
