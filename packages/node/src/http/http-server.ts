import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { StartupError } from '../errors.js';
import type { StaticFiles } from './static-files.js';

export type Route = () => { status: number; body: unknown };
export type UpgradeHandler = (request: IncomingMessage, socket: Duplex, head: Buffer) => void;

export interface HttpHandlers {
  /** JSON answers to GET, by path. */
  routes: Record<string, Route>;
  /** Files for the GET and HEAD paths no route takes (the web client). */
  files?: StaticFiles;
  /** Connection upgrades (WebSocket), by path; any other upgrade is refused. */
  upgrades?: Record<string, UpgradeHandler>;
}

export interface HttpServer {
  readonly port: number;
  close(): Promise<void>;
}

// The page loads its script and styles from this node and talks to the cluster's
// WebSocket endpoints, which may be on any host and port; nothing else.
const PAGE_SECURITY_POLICY = "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:";

/** The node's HTTP listener: JSON routes, the web client's files, WebSocket upgrades. */
export async function listenHttp(host: string, port: number, handlers: HttpHandlers): Promise<HttpServer> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void answer(req, res, handlers).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: (err as Error).message });
      else res.destroy();
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const upgrade = handlers.upgrades?.[pathOf(req)];
    if (upgrade) return upgrade(req, socket, head);
    socket.on('error', () => {});
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(new StartupError(`cannot listen for HTTP on ${host}:${port}: ${err.code ?? err.message}`, { cause: err }));
    });
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function answer(req: IncomingMessage, res: ServerResponse, handlers: HttpHandlers): Promise<void> {
  const path = pathOf(req);
  const isRead = req.method === 'GET' || req.method === 'HEAD';
  if (!isRead) return sendJson(res, 405, { error: `no ${req.method} ${path}` });
  const route = handlers.routes[path];
  if (route) {
    const { status, body } = safely(route);
    return sendJson(res, status, body);
  }
  if (!handlers.files) return sendJson(res, 404, { error: `no GET ${path}` });
  const found = await handlers.files.lookup(path);
  if (found.status !== 200) return sendJson(res, found.status, { error: found.error });
  res.writeHead(200, {
    'content-type': found.contentType,
    'content-length': found.body.length,
    // Revalidated on every load: a rebuild is served at once.
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
    ...(found.contentType.startsWith('text/html') ? { 'content-security-policy': PAGE_SECURITY_POLICY } : {}),
  });
  res.end(found.body);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(`${JSON.stringify(body, null, 2)}\n`);
}

function pathOf(req: IncomingMessage): string {
  return (req.url ?? '/').split('?')[0] ?? '/';
}

function safely(route: Route): { status: number; body: unknown } {
  try {
    return route();
  } catch (err) {
    return { status: 500, body: { error: (err as Error).message } };
  }
}
