import { connect } from 'node:net';
import { parseHostPort } from '@meshchat/protocol';
import type { Transport, TransportConnection, TransportHandlers } from './transport.js';

/** Plain TCP to a node's client port ("host:port"). */
export const tcpTransport: Transport = {
  open(server: string, handlers: TransportHandlers): TransportConnection {
    const { host, port } = parseHostPort(server);
    const socket = connect({ host, port, noDelay: true });
    let reason = 'socket closed';
    socket.on('connect', () => handlers.onOpen());
    socket.on('data', (chunk: Buffer) => handlers.onData(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      reason = err.code ?? err.message;
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
