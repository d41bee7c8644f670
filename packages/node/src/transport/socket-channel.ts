import type { Socket } from 'node:net';
import type { ByteChannel, ByteChannelHandlers } from './byte-channel.js';

/** A TCP socket as a ByteChannel: a byte stream, frames split anywhere. */
export class SocketChannel implements ByteChannel {
  readonly transport = 'tcp';
  readonly hasMessageBoundaries = false;

  constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
  }

  get remoteAddress(): string {
    return `${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? '?'}`;
  }

  get bufferedBytes(): number {
    return this.socket.writableLength;
  }

  start(handlers: ByteChannelHandlers): void {
    this.socket.on('data', (chunk: Buffer) => handlers.onData(chunk));
    this.socket.on('error', () => {
      // 'close' follows every 'error'; the close handler does the cleanup.
    });
    this.socket.on('close', (hadError) => handlers.onClose(hadError));
  }

  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  end(lastBytes?: Uint8Array): void {
    this.socket.pause();
    if (lastBytes) this.socket.end(lastBytes);
    else this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}
