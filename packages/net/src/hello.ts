/**
 * The hello that opens every connection between parties (TCP, TLS or WebSocket): one frame with a JSON
 * body naming the sender, the party it wants, and for a service the session; the answer may refuse.
 * Hellos are not protocol traffic (the ledger starts after them).
 * @module
 */
import { encodeHeader, type Frame } from './frame.ts';
import { ProtocolError } from './errors.ts';

const HELLO = 'si-hello';
export const PROTO = 'si/1';
export const HELLO_MAX = 4096;

export interface Hello {
  proto: string;
  from: string;
  to: string;
  /** A service session: the connector asks for `new` (or joins a session by id); the answer names it. */
  session?: string;
  /** In an answer: why the connection is refused, and whether asking again later may succeed. */
  refused?: string;
  retry?: boolean;
}

/** The hello as one frame's bytes. */
export function helloFrame(h: Hello): Uint8Array {
  const body = new TextEncoder().encode(JSON.stringify(h));
  const head = encodeHeader(HELLO, [], body.length);
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

/** The hello in a frame. @throws {ProtocolError} naming `who` when it is not a well-formed hello */
export function parseHello(f: Frame, who: string): Hello {
  if (f.tag !== HELLO) throw new ProtocolError(who, `${who} opened with "${f.tag}" instead of a hello`);
  let o: Partial<Hello>;
  try {
    o = JSON.parse(new TextDecoder().decode(f.payload));
  } catch {
    throw new ProtocolError(who, `hello from ${who} is not JSON`);
  }
  if (o === null || typeof o !== 'object' || o.proto !== PROTO || typeof o.from !== 'string' || typeof o.to !== 'string' || (o.session !== undefined && typeof o.session !== 'string'))
    throw new ProtocolError(who, `hello from ${who} is malformed (expected {"proto":"${PROTO}","from":…,"to":…})`);
  return o as Hello;
}
