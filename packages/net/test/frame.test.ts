import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeHeader, FrameDecoder, FrameError, HEADER_BYTES } from '../src/index.ts';

function frame(tag: string, payload: Uint8Array, depth = 0): Uint8Array {
  const h = encodeHeader(tag, [depth], payload.length);
  const out = new Uint8Array(h.length + payload.length);
  out.set(h);
  out.set(payload, h.length);
  return out;
}

function bytes(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
}

test('frames survive every way of chunking the stream', () => {
  const msgs = [['a', bytes(0, 1)], ['beaver.EF', bytes(1, 2)], ['x', bytes(17, 3)], ['long-tag.' + 'z'.repeat(200), bytes(1000, 4)]] as const;
  const stream = new Uint8Array(msgs.reduce((s, [t, p]) => s + HEADER_BYTES + t.length + 4 + p.length, 0));
  let o = 0;
  msgs.forEach(([t, p], i) => {
    const f = frame(t, p, i + 1);
    stream.set(f, o);
    o += f.length;
  });
  for (const step of [1, 2, 3, 7, 16, 17, 64, 1000, stream.length]) {
    const d = new FrameDecoder({ maxPayload: 1 << 20 });
    const got = [];
    for (let i = 0; i < stream.length; i += step) got.push(...d.push(stream.subarray(i, i + step)));
    assert.equal(got.map((f) => f.tag), msgs.map(([t]) => t), `step ${step}`);
    assert.equal(got.map((f) => [...f.stamps]), [[1], [2], [3], [4]]);
    got.forEach((f, i) => {
      assert.equal([...f.payload], [...msgs[i]![1]]);
      assert.is(f.payload.byteOffset % 8, 0, 'payload aligned for typed-array views');
    });
    assert.is(d.pending, 0);
  }
});

test('bad magic, version, tag, reserved bits and oversize frames are refused and the decoder stays failed', () => {
  const good = frame('ok', bytes(4, 0));
  const cases: [string, (f: Uint8Array) => void, RegExp][] = [
    ['magic', (f) => (f[0] = 0x47), /bad frame magic/],
    ['version', (f) => (f[2] = 9), /unsupported frame version 9/],
    ['empty tag', (f) => (f[3] = 0), /frame tag is empty/],
    ['tag chars', (f) => (f[HEADER_BYTES] = 0x20), /not printable ASCII/],
    ['huge length', (f) => (f[13] = 0xff), /over the limit of 100 bytes/],
    ['huge channel', (f) => (f[5] = 0xff), /frame channel of 65\d+ bytes is over the limit of 4096/],
    ['many stamps', (f) => (f[7] = 0x01), /frame has 257 round stamps, over the limit of 64/],
    ['reserved', (f) => (f[15] = 0x01), /non-zero reserved bits/],
  ];
  for (const [what, mutate, re] of cases) {
    const f = good.slice();
    mutate(f);
    const d = new FrameDecoder({ maxPayload: 100 });
    assert.throws(() => d.push(f), (e: Error) => e instanceof FrameError && re.test(e.message), what);
    assert.throws(() => d.push(good), /decoder already failed/);
  }
  const d = new FrameDecoder({ maxPayload: 3 });
  assert.throws(() => d.push(good), /frame of 4 bytes is over the limit of 3 bytes/);
  assert.throws(() => encodeHeader('has space', [], 1), /printable ASCII/);
  assert.throws(() => encodeHeader('', [], 1), /tag must be/);
  assert.throws(() => encodeHeader('t', [-1], 1), /round stamp 0 must be a u32/);
  assert.throws(() => encodeHeader('t', [], 1, 'x'.repeat(5000)), /over the limit of 4096/);
  const bad = frame('ok', bytes(0, 0));
  const withChannel = new Uint8Array([...encodeHeader('ok', [], 0, 'ab')]);
  withChannel[HEADER_BYTES + 2] = 0xff; // not UTF-8
  assert.throws(() => new FrameDecoder({ maxPayload: 100 }).push(withChannel), /frame channel is not UTF-8/);
  assert.is(new FrameDecoder({ maxPayload: 100 }).push(bad)[0]!.channel, '');
});

test('a frame carries its channel (any UTF-8 scope label)', () => {
  const payload = bytes(5, 1);
  const h = encodeHeader('t', [7, 3, 1], payload.length, 'batch/layer1.0.conv1 ü');
  const d = new FrameDecoder({ maxPayload: 100 });
  const [f] = d.push(new Uint8Array([...h, ...payload]));
  assert.equal([f!.tag, f!.channel, [...f!.stamps], [...f!.payload]], ['t', 'batch/layer1.0.conv1 ü', [7, 3, 1], [...payload]]);
});

test('a payload streams into the buffer onHeader gives (nothing held twice); adopt takes over a frame in progress; a throw refuses it at the header', () => {
  const payload = Uint8Array.from({ length: 4000 }, (_, i) => (i * 7) & 0xff);
  const wire = new Uint8Array([...encodeHeader('big', [], payload.length), ...payload]);
  const target = new Uint8Array(payload.length);
  const seen: string[] = [];
  const d = new FrameDecoder({ maxPayload: 1 << 20, onHeader: (h) => (seen.push(`${h.tag}:${h.length}`), target) });
  assert.equal(d.push(wire.subarray(0, HEADER_BYTES + 3 + 1000)), []);
  assert.equal(seen, ['big:4000']);
  assert.is(d.pending, 0, 'the first 1000 payload bytes went into the target');
  assert.equal(d.current, { tag: 'big', channel: '', length: 4000 });
  const [f] = d.push(wire.subarray(HEADER_BYTES + 3 + 1000));
  assert.ok(f!.payload === target, 'the payload is the given buffer');
  assert.equal([...f!.payload], [...payload]);
  assert.is(d.current, null);
  // Without a target the bytes wait in the decoder; adopt moves them over and the rest streams in.
  const e = new FrameDecoder({ maxPayload: 1 << 20 });
  e.push(wire.subarray(0, HEADER_BYTES + 3 + 2500));
  assert.is(e.pending, 2500);
  const late = new Uint8Array(payload.length);
  e.adopt(late);
  assert.is(e.pending, 0);
  assert.ok(e.push(wire.subarray(HEADER_BYTES + 3 + 2500))[0]!.payload === late);
  assert.throws(() => e.adopt(new Uint8Array(1)), /no frame in progress/);
  // A refusal at the header fails the decoder before any payload.
  const r = new FrameDecoder({ maxPayload: 1 << 20, onHeader: () => { throw new FrameError('not expected'); } });
  assert.throws(() => r.push(wire.subarray(0, HEADER_BYTES + 3)), /not expected/);
});

test('drain hands back bytes past the last complete frame', () => {
  const d = new FrameDecoder({ maxPayload: 100 });
  const f = frame('a', bytes(3, 0));
  const both = new Uint8Array(f.length + 5);
  both.set(f);
  both.set([9, 9, 9, 9, 9], f.length);
  assert.is(d.push(both).length, 1);
  assert.equal(d.drain().flatMap((c) => [...c]), [9, 9, 9, 9, 9]);
});

test.run();
