import { connect, isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { parseServerAddress } from '@meshchat/protocol';
import type { Transport, TransportConnection, TransportHandlers } from './transport.js';

export interface TcpTransportOptions {
  /**
   * CA certificate(s), PEM, that a TLS node's certificate must chain to; the system's
   * trusted CAs when not given.
   */
  tlsCa?: string | Buffer;
}

/**
 * TCP to a node's client port: "host:port" in plain TCP, "tls://host:port" over TLS
 * with the node's certificate verified (its chain and that it names the host).
 */
export function createTcpTransport(options: TcpTransportOptions = {}): Transport {
  return {
    open(server: string, handlers: TransportHandlers): TransportConnection {
      const { host, port, isTls } = parseServerAddress(server);
      const socket = isTls
        ? tlsConnect({
            host,
            port,
            ...(options.tlsCa === undefined ? {} : { ca: options.tlsCa }),
            // SNI takes a host name only; an IP address is checked against the certificate's IP entries.
            ...(isIP(host) ? {} : { servername: host }),
          })
        : connect({ host, port, noDelay: true });
      if (isTls) socket.setNoDelay(true);
      let reason = 'socket closed';
      socket.on(isTls ? 'secureConnect' : 'connect', () => handlers.onOpen());
      socket.on('data', (chunk: Buffer) => handlers.onData(chunk));
      socket.on('error', (err: NodeJS.ErrnoException) => {
        reason = isTls && err.code ? `TLS: ${err.code}` : (err.code ?? err.message);
      });
      socket.on('close', () => handlers.onClose(reason));
      return {
        write: (bytes) => {
          socket.write(bytes);
        },
        close: () => {
          reason = 'closed by client';
          socket.destroy();
        },
      };
    },
  };
}

/** Plain TCP, and TLS checked against the system's trusted CAs. */
export const tcpTransport: Transport = createTcpTransport();
