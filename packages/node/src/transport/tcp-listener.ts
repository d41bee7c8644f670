import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import { StartupError } from '../errors.js';

/** A bound TCP listener; `port` is the real port, also when 0 was asked for. */
export interface TcpListener {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface ListenOptions {
  /** Speak TLS: `onSocket` gets each connection once its TLS handshake succeeded. */
  tls?: TlsOptions;
  /** A TLS handshake failed (plaintext on the port, a bad certificate); the socket is closed. */
  onTlsError?: (err: NodeJS.ErrnoException, remote: string) => void;
}

export async function listenTcp(
  host: string,
  port: number,
  what: string,
  onSocket: (socket: Socket) => void,
  options: ListenOptions = {},
): Promise<TcpListener> {
  let server: Server;
  if (options.tls) {
    const tlsServer = createTlsServer(options.tls, onSocket);
    tlsServer.on('tlsClientError', (err: NodeJS.ErrnoException, socket) => {
      options.onTlsError?.(err, `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`);
      socket.destroy();
    });
    server = tlsServer;
  } else {
    server = createServer({ noDelay: true }, onSocket);
  }
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
