import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { TlsOptions } from 'node:tls';
import { StartupError } from '../errors.js';

/** A route's answer: JSON unless `contentType` is given, then `body` is sent as text. */
export interface RouteResult {
  status: number;
  body: unknown;
  contentType?: string;
}

export type Route = () => RouteResult | Promise<RouteResult>;

export interface HttpServer {
  readonly port: number;
  close(): Promise<void>;
}

export interface HttpOptions {
  /** Serve HTTPS with these options (the node's certificate). */
  tls?: TlsOptions;
  /** A TLS handshake failed (plain HTTP to an HTTPS port, say). */
  onTlsError?: (err: NodeJS.ErrnoException, remote: string) => void;
}

/** A small HTTP(S) server: GET routes only, JSON answers unless a route says otherwise. */
export async function listenHttp(
  host: string,
  port: number,
  routes: Record<string, Route>,
  options: HttpOptions = {},
): Promise<HttpServer> {
  const handle: RequestListener = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = req.method === 'GET' ? routes[path] : undefined;
    const answer: Promise<RouteResult> = route
      ? safely(route)
      : Promise.resolve({ status: req.method === 'GET' ? 404 : 405, body: { error: `no ${req.method} ${path}` } });
    void answer.then(({ status, body, contentType }) => {
      const isText = contentType !== undefined && typeof body === 'string';
      res.writeHead(status, {
        'content-type': isText ? contentType : 'application/json',
        'cache-control': 'no-store',
      });
      res.end(isText ? body : `${JSON.stringify(body, null, 2)}\n`);
    });
  };
  const server = options.tls ? createHttpsServer(options.tls, handle) : createServer(handle);
  server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: import('node:tls').TLSSocket) => {
    options.onTlsError?.(err, `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`);
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

async function safely(route: Route): Promise<RouteResult> {
  try {
    return await route();
  } catch (err) {
    return { status: 500, body: { error: (err as Error).message } };
  }
}
