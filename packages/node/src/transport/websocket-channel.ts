import { ProtocolError } from '@meshchat/protocol';
import { WebSocket } from 'ws';
import type { ByteChannel, ByteChannelHandlers } from './byte-channel.js';

// Close codes ws uses when it refuses a client's input itself (RFC 6455 section 7.4.1):
// 1009 a message over maxPayload, 1002 and 1007 broken WebSocket framing or text.
const REFUSALS: Readonly<Record<number, ProtocolError>> = {
  1002: new ProtocolError('MALFORMED', 'invalid WebSocket framing'),
  1007: new ProtocolError('MALFORMED', 'invalid WebSocket message data'),
};

/**
 * The WebSocket class the endpoint's server creates. ws closes a connection itself,
 * before any handler sees the message, when its input is bad at the WebSocket level
 * (a message over maxPayload, broken framing): it calls close() with the reason's
 * code. Catching that call lets the node say why in an error frame first, as its TCP
 * port does, instead of a bare close code.
 */
export class NodeWebSocket extends WebSocket {
  onRefused: ((code: number) => void) | undefined;

  override close(code?: number, data?: string | Buffer): void {
    if (this.readyState === WebSocket.OPEN && code !== undefined) this.onRefused?.(code);
    super.close(code, data);
  }
}

/**
 * A node's end of a WebSocket as a ByteChannel. Each binary message holds whole
 * frames, length prefixes included; a text message is refused.
 */
export class WebSocketChannel implements ByteChannel {
  readonly transport = 'websocket';
  readonly hasMessageBoundaries = true;

  constructor(
    private readonly socket: NodeWebSocket,
    readonly remoteAddress: string,
    private readonly maxMessageBytes: number,
  ) {}

  get bufferedBytes(): number {
    return this.socket.bufferedAmount;
  }

  start(handlers: ByteChannelHandlers): void {
    const socket = this.socket;
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) handlers.onData(data);
      else handlers.onRefused(new ProtocolError('MALFORMED', 'a text message; frames travel in binary messages'));
    });
    socket.onRefused = (code) => {
      const refusal =
        code === 1009
          ? new ProtocolError('FRAME_TOO_LARGE', `a message of more than ${this.maxMessageBytes} bytes`)
          : REFUSALS[code];
      if (refusal) handlers.onRefused(refusal);
    };
    socket.on('error', () => {
      // 'close' follows; a refusal was reported by onRefused.
    });
    socket.on('close', (code: number) => handlers.onClose(code === 1006));
  }

  write(bytes: Uint8Array): void {
    this.socket.send(bytes);
  }

  end(lastBytes?: Uint8Array): void {
    this.socket.onRefused = undefined;
    if (lastBytes) this.socket.send(lastBytes);
    this.socket.close(1000);
  }

  destroy(): void {
    this.socket.terminate();
  }
}
