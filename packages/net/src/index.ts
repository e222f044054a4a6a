/**
 * @si/net: links between parties (in-memory, TCP, TLS 1.3 with mutual authentication), framing, and a
 * byte/round ledger that every transport goes through.
 * @module
 */
export { Link, Channel, type LinkOptions, type Payload, type Received, type Transport, type Sink } from './link.ts';
export { Ledger, Scope, type LedgerRow, type Phase } from './ledger.ts';
export { memoryLinkPair } from './memory.ts';
export { LinkServer, connectLink, connectSession, isLoopback, type ListenOptions, type ConnectOptions, type Incoming, type TlsCredentials, type PublicClientTls } from './tcp.ts';
export { createCA, issueCert, certRole, type CertPair } from './certs.ts';
export { FrameDecoder, encodeHeader, HEADER_BYTES, FRAME_VERSION, MAX_CHANNEL_BYTES, MAX_STAMPS, type Frame } from './frame.ts';
export { LinkClosedError, LinkTimeoutError, ProtocolError, RefusedError, FrameError } from './errors.ts';
export { connectWebSocket, type WebSocketConnectOptions, type WebSocketLike, type WebSocketClass } from './websocket.ts';
