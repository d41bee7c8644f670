import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { StartupError } from '../errors.js';

export type Route = () => { status: number; body: unknown };

export interface HttpServer {
  readonly port: number;
  close(): Promise<void>;
}

/** A small JSON HTTP server: GET routes only, every answer is JSON. */
export async function listenHttp(host: string, port: number, routes: Record<string, Route>): Promise<HttpServer> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = req.method === 'GET' ? routes[path] : undefined;
    const { status, body } = route
      ? safely(route)
      : { status: req.method === 'GET' ? 404 : 405, body: { error: `no ${req.method} ${path}` } };
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(`${JSON.stringify(body, null, 2)}\n`);
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

function safely(route: Route): { status: number; body: unknown } {
  try {
    return route();
  } catch (err) {
    return { status: 500, body: { error: (err as Error).message } };
  }
}
