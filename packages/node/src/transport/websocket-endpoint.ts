import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { LENGTH_PREFIX_BYTES } from '@meshchat/protocol';
import { WebSocketServer } from 'ws';
import { NodeWebSocket, WebSocketChannel } from './websocket-channel.js';

/** Takes the HTTP upgrades of WEBSOCKET_PATH and hands each connection on as a channel. */
export interface WebSocketEndpoint {
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  close(): void;
}

export function webSocketEndpoint(
  options: { maxFrameBytes: number },
  onChannel: (channel: WebSocketChannel) => void,
): WebSocketEndpoint {
  // A client's message holds whole frames, at most one frame of the largest size: a
  // larger message is refused by ws from its header, before it is buffered, as a TCP
  // frame is refused from its length prefix.
  const maxMessageBytes = options.maxFrameBytes + LENGTH_PREFIX_BYTES;
  const server = new WebSocketServer({
    noServer: true,
    maxPayload: maxMessageBytes,
    // Frames are small msgpack maps; compression would cost CPU per message and let a
    // small message inflate past the limits (a zip bomb).
    perMessageDeflate: false,
    WebSocket: NodeWebSocket,
  });
  return {
    handleUpgrade(request, socket, head) {
      server.handleUpgrade(request, socket, head, (ws) => {
        const remote = `${request.socket.remoteAddress ?? '?'}:${request.socket.remotePort ?? '?'}`;
        onChannel(new WebSocketChannel(ws as NodeWebSocket, remote, maxMessageBytes));
      });
    },
    close() {
      server.close();
    },
  };
}
