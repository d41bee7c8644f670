import { type ClientTransport, encodeFrame, FrameDecoder, type FrameSchemas, ProtocolError } from '@meshchat/protocol';
import type { z } from 'zod';
import { CLOSE_FLUSH_MS } from '../constants.js';
import type { ByteChannel } from './byte-channel.js';

export interface FrameConnectionOptions {
  maxFrameBytes: number;
  // Bytes the channel has not handed to the kernel after a flush; past this the peer
  // is a slow consumer and onOverflow fires once.
  maxOutboundBytes: number;
}

// Within one event-loop turn a burst (a commit releasing thousands of messages) may
// queue far more than maxOutboundBytes for a client that reads promptly; only a queue
// this many times the limit means trouble before the flush can tell.
const BURST_FACTOR = 8;

export interface FrameConnectionHandlers<F> {
  /** `raw`: the frame as received, for passing it on without encoding it again. */
  onFrame(frame: F, raw: Uint8Array): void;
  onProtocolError(error: ProtocolError): void;
  onOverflow(): void;
  onClose(hadError: boolean): void;
}

/**
 * One framed, length-prefixed msgpack connection over a byte channel (a TCP socket or
 * a WebSocket). Outgoing bytes are queued and written once per event-loop turn: in a
 * relay most of the cost is write syscalls, so many frames to one socket become one
 * write (on a WebSocket, one message).
 */
export class FrameConnection<S extends FrameSchemas> {
  private readonly decoder: FrameDecoder<S>;
  private queue: Uint8Array[] = [];
  private queuedBytes = 0;
  private flushScheduled = false;
  private closing = false;
  private overflowed = false;

  constructor(
    private readonly channel: ByteChannel,
    schemas: S,
    private readonly options: FrameConnectionOptions,
    private readonly handlers: FrameConnectionHandlers<z.infer<S[keyof S]>>,
  ) {
    this.decoder = new FrameDecoder(schemas, { maxFrameBytes: options.maxFrameBytes });
    channel.start({
      onData: (chunk) => this.onData(chunk),
      onRefused: (error) => this.onProtocolError(error),
      onClose: (hadError) => {
        this.closing = true;
        this.queue = [];
        this.queuedBytes = 0;
        handlers.onClose(hadError);
      },
    });
  }

  /** See FrameDecoder.setMaxFrameBytes. */
  setMaxFrameBytes(maxFrameBytes: number): void {
    this.decoder.setMaxFrameBytes(maxFrameBytes);
  }

  get transport(): ClientTransport {
    return this.channel.transport;
  }

  get remoteAddress(): string {
    return this.channel.remoteAddress;
  }

  get isOpen(): boolean {
    return !this.closing;
  }

  /** Bytes waiting to reach the peer: our queue plus the channel's own buffer. */
  get outboundBytes(): number {
    return this.queuedBytes + this.channel.bufferedBytes;
  }

  send(frame: object): void {
    this.sendEncoded(encodeFrame(frame));
  }

  /** Queues bytes that were encoded once for many recipients. */
  sendEncoded(bytes: Uint8Array): void {
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
   * A peer that does not read cannot hold the connection open past CLOSE_FLUSH_MS.
   */
  closeWith(lastFrame?: object): void {
    if (this.closing) return;
    this.closing = true;
    this.queue = [];
    this.queuedBytes = 0;
    this.channel.end(lastFrame ? encodeFrame(lastFrame) : undefined);
    setTimeout(() => this.channel.destroy(), CLOSE_FLUSH_MS).unref();
  }

  destroy(): void {
    this.closing = true;
    this.channel.destroy();
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.closing || this.queue.length === 0) return;
    const bytes = this.queue.length === 1 ? (this.queue[0] as Uint8Array) : Buffer.concat(this.queue, this.queuedBytes);
    this.queue = [];
    this.queuedBytes = 0;
    this.channel.write(bytes);
    // Slow is what the channel could not pass on: a client that reads keeps this near 0.
    if (this.channel.bufferedBytes > this.options.maxOutboundBytes) this.overflow();
  }

  private overflow(): void {
    if (this.overflowed) return;
    this.overflowed = true;
    this.handlers.onOverflow();
  }

  private onData(chunk: Uint8Array): void {
    if (this.closing) return;
    const error = this.decoder.pushEach(chunk, (frame, raw) => {
      if (!this.closing) this.handlers.onFrame(frame, raw);
    });
    if (error) return this.onProtocolError(error);
    // A message that ends inside a frame would leave the next one to be read as the
    // rest of it; the rule (docs/protocol.md "WebSocket") makes each message whole.
    if (this.channel.hasMessageBoundaries && this.decoder.bufferedBytes > 0) {
      this.onProtocolError(
        new ProtocolError('MALFORMED', 'a message ended inside a frame; each message must hold whole frames'),
      );
    }
  }

  private onProtocolError(error: ProtocolError): void {
    if (!this.closing) this.handlers.onProtocolError(error);
  }
}
