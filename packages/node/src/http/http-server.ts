import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
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

/** A small HTTP server: GET routes only, JSON answers unless a route says otherwise. */
export async function listenHttp(host: string, port: number, routes: Record<string, Route>): Promise<HttpServer> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
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
