/**
 * `si serve --web`: an HTTPS endpoint (the service's own certificate) that takes WebSocket clients
 * (`wss://`) into the service's listener, and at the server also serves the browser client's page
 * (@si/web) with its public parameters (/config.json, /spec.txt). The page is cross-origin isolated
 * (COOP/COEP), so the kernels' shared memory is available to it.
 * @module
 */
import { readFileSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { LinkServer, TlsCredentials } from '@si/net';

export interface WebFrontendOptions {
  host: string;
  port: number;
  tls: TlsCredentials;
  listener: LinkServer;
  /** The server: the page, and what /config.json and /spec.txt say. */
  page?: { config: Record<string, unknown>; spec: string | null };
}

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.wasm': 'application/wasm' };

/** The built page of @si/web (dist/page). @throws when it has not been built */
function pageRoot(): string {
  const pkg = fileURLToPath(import.meta.resolve('@si/web/package.json'));
  const dir = join(dirname(pkg), 'dist', 'page');
  if (!existsSync(join(dir, 'app.js'))) throw new Error(`the browser page is not built (${dir}): run pnpm build`);
  return dir;
}

export async function startWebFrontend(o: WebFrontendOptions): Promise<Server> {
  const root = o.page ? pageRoot() : undefined;
  const files = new Map<string, { body: Buffer | string; type: string }>();
  if (root && o.page) {
    for (const f of ['index.html', 'app.js', 'worker.js', 'kernels.wasm']) files.set(`/${f}`, { body: readFileSync(join(root, f)), type: TYPES[f.slice(f.lastIndexOf('.'))]! });
    files.set('/', files.get('/index.html')!);
    files.set('/config.json', { body: JSON.stringify(o.page.config), type: 'application/json' });
    files.set('/spec.txt', { body: o.page.spec ?? '', type: 'text/plain; charset=utf-8' });
  }
  const server = createServer({ cert: o.tls.cert, key: o.tls.key, minVersion: 'TLSv1.3' }, (req, res) => {
    const f = req.method === 'GET' ? files.get((req.url ?? '/').split('?')[0]!) : undefined;
    if (!f) return void res.writeHead(404, { 'content-type': 'text/plain' }).end(root ? 'not found\n' : 'this endpoint takes WebSocket clients only\n');
    res.writeHead(200, {
      'content-type': f.type, 'cache-control': 'no-store',
      'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp', 'cross-origin-resource-policy': 'same-origin',
      'content-security-policy': "default-src 'self'; connect-src 'self' wss:; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; style-src 'unsafe-inline'; img-src 'self' blob: data:",
    }).end(f.body);
  });
  const wss = new WebSocketServer({ server, maxPayload: 2 ** 31 });
  wss.on('connection', (ws, req) => o.listener.adopt(createWebSocketStream(ws), `${req.socket.remoteAddress}:${req.socket.remotePort} (WebSocket)`));
  server.listen(o.port, o.host);
  await Promise.race([once(server, 'listening'), once(server, 'error').then(([e]) => Promise.reject(e))]);
  return server;
}
