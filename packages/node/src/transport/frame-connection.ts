import type { Socket } from 'node:net';
import { encodeFrame, FrameDecoder, type FrameSchemas, type ProtocolError } from '@meshchat/protocol';
import type { z } from 'zod';
import { CLOSE_FLUSH_MS } from '../constants.js';

export interface FrameConnectionOptions {
  maxFrameBytes: number;
  // Bytes the socket has not handed to the kernel after a flush; past this the peer
  // is a slow consumer and onOverflow fires once.
  maxOutboundBytes: number;
}

// Within one event-loop turn a burst (a commit releasing thousands of messages) may
// queue far more than maxOutboundBytes for a client that reads promptly; only a queue
// this many times the limit means trouble before the flush can tell.
const BURST_FACTOR = 8;

export interface FrameConnectionHandlers<F> {
  /** `raw`: the frame as received, for passing it on without encoding it again. */
  onFrame(frame: F, raw: Buffer): void;
  onProtocolError(error: ProtocolError): void;
  onOverflow(): void;
  onClose(hadError: boolean): void;
}

/**
 * One framed, length-prefixed msgpack connection over a socket. Outgoing bytes are
 * queued and written once per event-loop turn: in a relay most of the cost is write
 * syscalls, so many frames to one socket become one write.
 */
export class FrameConnection<S extends FrameSchemas> {
  private readonly decoder: FrameDecoder<S>;
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  private flushScheduled = false;
  private closing = false;
  private overflowed = false;

  constructor(
    readonly socket: Socket,
    schemas: S,
    private readonly options: FrameConnectionOptions,
    private readonly handlers: FrameConnectionHandlers<z.infer<S[keyof S]>>,
  ) {
    this.decoder = new FrameDecoder(schemas, { maxFrameBytes: options.maxFrameBytes });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {
      // 'close' follows every 'error'; the close handler does the cleanup.
    });
    socket.on('close', (hadError) => {
      this.closing = true;
      this.queue = [];
      this.queuedBytes = 0;
      handlers.onClose(hadError);
    });
  }

  /** See FrameDecoder.setMaxFrameBytes. */
  setMaxFrameBytes(maxFrameBytes: number): void {
    this.decoder.setMaxFrameBytes(maxFrameBytes);
  }

  get remoteAddress(): string {
    return `${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? '?'}`;
  }

  get isOpen(): boolean {
    return !this.closing;
  }

  /** Bytes waiting to reach the peer: our queue plus the socket's own buffer. */
  get outboundBytes(): number {
    return this.queuedBytes + this.socket.writableLength;
  }

  send(frame: object): void {
    this.sendEncoded(encodeFrame(frame));
  }

  /** Queues bytes that were encoded once for many recipients. */
  sendEncoded(bytes: Buffer): void {
    if (this.closing) return;
    this.queue.push(bytes);
    this.queuedBytes += bytes.length;
    if (this.outboundBytes > BURST_FACTOR * this.options.maxOutboundBytes) {
      this.overflow();
      return;
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /**
   * Sends a last frame (usually an error naming the reason) and closes. Queued frames
   * are dropped: after an error the peer must not act on anything that follows it.
   * A peer that does not read cannot hold the socket open past CLOSE_FLUSH_MS.
   */
  closeWith(lastFrame?: object): void {
    if (this.closing) return;
    this.closing = true;
    this.socket.pause();
    this.queue = [];
    this.queuedBytes = 0;
    if (lastFrame) this.socket.end(encodeFrame(lastFrame));
    else this.socket.end();
    setTimeout(() => this.socket.destroy(), CLOSE_FLUSH_MS).unref();
  }

  destroy(): void {
    this.closing = true;
    this.socket.destroy();
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.closing || this.queue.length === 0) return;
    const bytes = this.queue.length === 1 ? (this.queue[0] as Buffer) : Buffer.concat(this.queue, this.queuedBytes);
    this.queue = [];
    this.queuedBytes = 0;
    this.socket.write(bytes);
    // Slow is what the socket could not pass on: a client that reads keeps this near 0.
    if (this.socket.writableLength > this.options.maxOutboundBytes) this.overflow();
  }

  private overflow(): void {
    if (this.overflowed) return;
    this.overflowed = true;
    this.handlers.onOverflow();
  }

  private onData(chunk: Buffer): void {
    if (this.closing) return;
    const error = this.decoder.pushEach(chunk, (frame, raw) => {
      if (!this.closing) this.handlers.onFrame(frame, raw);
    });
    if (error && !this.closing) this.handlers.onProtocolError(error);
  }
}
