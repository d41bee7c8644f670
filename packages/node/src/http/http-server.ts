import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { TLSSocket, TlsOptions } from 'node:tls';
import { StartupError } from '../errors.js';
import type { StaticFiles } from './static-files.js';

/** A route's answer: JSON unless `contentType` is given, then `body` is sent as text. */
export interface RouteResult {
  status: number;
  body: unknown;
  contentType?: string;
}

export type Route = () => RouteResult | Promise<RouteResult>;
export type UpgradeHandler = (request: IncomingMessage, socket: Duplex, head: Buffer) => void;

export interface HttpHandlers {
  /** Answers to GET, by path: JSON unless the route gives a content type. */
  routes: Record<string, Route>;
  /** Files for the GET and HEAD paths no route takes (the web client). */
  files?: StaticFiles;
  /** Connection upgrades (WebSocket), by path; any other upgrade is refused. */
  upgrades?: Record<string, UpgradeHandler>;
}

export interface HttpOptions {
  /** Serve HTTPS (and WebSocket over TLS) with these options: the node's certificate. */
  tls?: TlsOptions;
  /** A TLS handshake failed (plain HTTP to an HTTPS port, say). */
  onTlsError?: (err: NodeJS.ErrnoException, remote: string) => void;
}

export interface HttpServer {
  readonly port: number;
  close(): Promise<void>;
}

// The page loads its script and styles from this node and talks to the cluster's
// WebSocket endpoints, which may be on any host and port; nothing else.
const PAGE_SECURITY_POLICY = "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:";

/** The node's HTTP(S) listener: JSON routes, the web client's files, WebSocket upgrades. */
export async function listenHttp(
  host: string,
  port: number,
  handlers: HttpHandlers,
  options: HttpOptions = {},
): Promise<HttpServer> {
  const handle: RequestListener = (req: IncomingMessage, res: ServerResponse) => {
    void answer(req, res, handlers).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: (err as Error).message });
      else res.destroy();
    });
  };
  const server = options.tls ? createHttpsServer(options.tls, handle) : createServer(handle);
  server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
    options.onTlsError?.(err, `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`);
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
    const { status, body, contentType } = await safely(route);
    if (contentType === undefined || typeof body !== 'string') return sendJson(res, status, body);
    res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
    res.end(body);
    return;
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

async function safely(route: Route): Promise<RouteResult> {
  try {
    return await route();
  } catch (err) {
    return { status: 500, body: { error: (err as Error).message } };
  }
}
