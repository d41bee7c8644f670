import type { ClientTransport, ProtocolError } from '@meshchat/protocol';

/**
 * A connection's bytes as FrameConnection needs them, whatever carries them: a TCP
 * socket (SocketChannel), or a WebSocket whose binary messages carry the same framed
 * bytes (WebSocketChannel). Framing, write batching and backpressure live once, in
 * FrameConnection, above this.
 */
export interface ByteChannel {
  readonly transport: ClientTransport;
  readonly remoteAddress: string;
  /** Bytes written here that the kernel has not taken yet. */
  readonly bufferedBytes: number;
  /**
   * True when each chunk is one message of the carrier, which must hold whole frames
   * (WebSocket); false for a byte stream, where frames may split anywhere (TCP).
   */
  readonly hasMessageBoundaries: boolean;
  /** Starts reading; handlers are called from here on. */
  start(handlers: ByteChannelHandlers): void;
  write(bytes: Uint8Array): void;
  /** Stops taking input, sends `lastBytes` if any, then closes. */
  end(lastBytes?: Uint8Array): void;
  /** Closes at once, dropping whatever is unsent. */
  destroy(): void;
}

export interface ByteChannelHandlers {
  onData(chunk: Uint8Array): void;
  /** Input the carrier itself refused before any frame was read from it. */
  onRefused(error: ProtocolError): void;
  onClose(hadError: boolean): void;
}
