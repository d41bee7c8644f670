import { createServer, type Server, type Socket } from 'node:net';
import { StartupError } from '../errors.js';

/** A bound TCP listener; `port` is the real port, also when 0 was asked for. */
export interface TcpListener {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function listenTcp(
  host: string,
  port: number,
  what: string,
  onSocket: (socket: Socket) => void,
): Promise<TcpListener> {
  const server: Server = createServer({ noDelay: true }, onSocket);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        new StartupError(`cannot listen for ${what} on ${host}:${port}: ${err.code ?? err.message}`, { cause: err }),
      );
    });
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  return {
    host,
    port: boundPort,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
      }),
  };
}
