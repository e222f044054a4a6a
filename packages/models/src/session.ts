/**
 * What the three parties must agree on before any share moves: the architecture, the patch spec, the
 * comparison mode, the reveal mode, the fixed-point scale and the batch size (all public), plus the
 * number of images (the client's). A disagreement would not fail loudly later, it would give wrong predictions, so the
 * parties compare these first and stop with an error that names the field.
 * @module
 */
import { stringifySpec, type PatchSpec } from '@si/patch-relu';
import { windowOf, type DreluMode } from '@si/relu-protocols';
import { CLIENT, HELPER, SERVER, sha256, type Party } from '@si/sharing';

export class SessionError extends Error {
  override readonly name = 'SessionError';
}

/**
 * Comparison modes by name: `full`, `smallK`/`paperK` (drop 4 low bits, keep K), `small:D:K` / `paper:D:K`,
 * and `twohopK` / `twohop:D:K`: small-ring windows with the two-hop sign test (one online round fewer per
 * ReLU layer, more bytes per DReLU; K <= 31).
 */
export function parseMode(name: string): DreluMode {
  if (name === 'full') return { mode: 'full' };
  const m = /^(small|paper|twohop)(?::(\d+):(\d+)|(\d+))$/.exec(name);
  if (!m) throw new SessionError(`unknown comparison mode "${name}" (use full, small16, paper16, twohop16, small:D:K, paper:D:K or twohop:D:K)`);
  const [dropLowBits, keepBits] = m[4] !== undefined ? [4, Number(m[4])] : [Number(m[2]), Number(m[3])];
  // The sign tests run on 32-bit words: K <= 32 (a patch layer widens its window up to that too; 31 two-hop).
  const most = m[1] === 'twohop' ? 31 : 32;
  if (!(keepBits >= 2 && keepBits <= most && dropLowBits >= 0 && dropLowBits + keepBits <= 63))
    throw new SessionError(`comparison mode "${name}": need 2 <= K <= ${most} and D + K <= 63 (D dropped low bits, K compared bits)`);
  const mode: DreluMode = m[1] === 'twohop' ? { mode: 'small-ring', dropLowBits, keepBits, hops: 2 } : { mode: m[1] === 'small' ? 'small-ring' : 'paper', dropLowBits, keepBits };
  windowOf(mode); // the protocols' own check, here rather than after the weight setup
  return mode;
}

/** The public parameters of a session. */
export interface PublicParams {
  model: string;
  /** SHA-256 of the canonical spec text, or 'relu' (every layer a plain ReLU). */
  spec: string;
  mode: string;
  /** What the client learns (label, topk:K or logits): the server and helper must run the same output protocol. */
  reveal: string;
  fracBits: number;
  batch: number;
  /** Whether each batch is preprocessed ahead of its input. */
  preprocess: boolean;
}

export function specDigest(spec: PatchSpec | null): string {
  return spec ? Array.from(sha256(stringifySpec(spec)), (b) => b.toString(16).padStart(2, '0')).join('') : 'relu';
}

const FIELDS: (keyof PublicParams)[] = ['model', 'spec', 'mode', 'reveal', 'fracBits', 'batch', 'preprocess'];

/**
 * Every party sends its parameters to the other two and checks theirs; the client also sends how many
 * images it will classify. Returns that count.
 * @throws {SessionError} naming the first field two parties disagree on
 */
export async function agree(p: Party, mine: PublicParams, images?: number): Promise<number> {
  if (p.id === CLIENT && !(Number.isInteger(images) && images! > 0)) throw new SessionError(`the client must classify at least one image, got ${images}`);
  const msg = new TextEncoder().encode(JSON.stringify({ ...mine, images: p.id === CLIENT ? images : null }));
  const peers = [CLIENT, SERVER, HELPER].filter((q) => q !== p.id);
  const theirs = await p.scope('session', (s) => Promise.all(peers.map(async (q) => {
    const text = new TextDecoder().decode(await s.link(q).exchange('params', msg));
    try {
      return JSON.parse(text) as PublicParams & { images: number | null };
    } catch {
      throw new SessionError(`the ${p.link(q).peer} sent session parameters that are not JSON`);
    }
  })), 'setup');
  theirs.forEach((t, i) => {
    for (const k of FIELDS) {
      if (t[k] !== mine[k]) {
        const what = k === 'spec' ? 'patch spec (SHA-256 of its canonical text)' : k;
        throw new SessionError(`the ${p.role} and the ${p.link(peers[i]!).peer} disagree on the ${what}: ${JSON.stringify(mine[k])} here, ${JSON.stringify(t[k])} there`);
      }
    }
  });
  if (p.id === CLIENT) return images!;
  const count = theirs[peers.indexOf(CLIENT)]!.images;
  if (!(Number.isInteger(count) && count! > 0)) throw new SessionError(`the client announced ${count} images`);
  return count!;
}

/**
 * The session's last step: every party tells both peers it has finished and waits until both say the
 * same, so no party reports a result of a session another party did not complete (a peer that dies or
 * stalls near the end is an error everywhere, not a success for the parties already done).
 */
export async function finish(p: Party): Promise<void> {
  const peers = [CLIENT, SERVER, HELPER].filter((q) => q !== p.id);
  await p.scope('session', (s) => Promise.all(peers.map((q) => s.link(q).exchange('done', new Uint8Array(0)))), 'setup');
}
