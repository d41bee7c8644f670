import { connect } from 'node:net';
import { encodeFrame, FrameDecoder, PROTOCOL_VERSION, type ServerFrame, serverFrameSchemas } from '@meshchat/protocol';
import { WebSocket } from 'ws';
import { onCleanup } from './cleanup.js';
import { waitFor } from './wait.js';

/** How a raw connection's bytes leave: a TCP socket or a WebSocket's binary messages. */
interface Wire {
  write(bytes: Uint8Array): void;
  pause(): void;
  resume(): void;
  destroy(): void;
}

/**
 * A bare connection to a node, over TCP or WebSocket, that can send any bytes and
 * records the frames it gets back: for tests of bad input, floods and slow readers.
 */
export class RawConnection {
  readonly frames: ServerFrame[] = [];
  isClosed = false;
  /** The WebSocket close code the node sent, for a WebSocket connection. */
  closeCode: number | undefined;
  private readonly decoder = new FrameDecoder(serverFrameSchemas, { maxFrameBytes: 16 * 1024 * 1024 });

  private constructor(
    private readonly wire: Wire,
    /** The WebSocket, for a WebSocket connection (to send text messages). */
    readonly webSocket?: WebSocket,
  ) {
    onCleanup(() => wire.destroy());
  }

  /** `localAddress`: another loopback address (127.0.0.2) to connect from, for per-address limits. */
  static async open(address: string, options: { localAddress?: string } = {}): Promise<RawConnection> {
    const [host, port] = address.split(':');
    const socket = connect({ host, port: Number(port), ...options });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const raw = new RawConnection({
      write: (bytes) => socket.write(bytes),
      pause: () => socket.pause(),
      resume: () => socket.resume(),
      destroy: () => socket.destroy(),
    });
    socket.on('data', (chunk: Buffer) => raw.receive(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      raw.isClosed = true;
    });
    return raw;
  }

  /**
   * A WebSocket to `url` (ws://host:httpPort/ws, or wss:// checked against `ca`); each
   * message the node sends is decoded.
   */
  static async openWebSocket(url: string, options: { ca?: string } = {}): Promise<RawConnection> {
    const socket = new WebSocket(url, options.ca === undefined ? {} : { ca: options.ca });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    const raw = new RawConnection(
      {
        write: (bytes) => socket.send(bytes),
        pause: () => socket.pause(),
        resume: () => socket.resume(),
        destroy: () => socket.terminate(),
      },
      socket,
    );
    socket.on('message', (data: Buffer) => raw.receive(data));
    socket.on('error', () => {});
    socket.on('close', (code: number) => {
      raw.closeCode = code;
      raw.isClosed = true;
    });
    return raw;
  }

  sendFrame(frame: object): void {
    this.wire.write(encodeFrame(frame));
  }

  /** Bytes as they are: on TCP part of the stream, on a WebSocket one binary message. */
  sendBytes(bytes: Uint8Array): void {
    this.wire.write(bytes);
  }

  /** Stops reading: the node's writes back up, as with a client that does not read. */
  pause(): void {
    this.wire.pause();
  }

  resume(): void {
    this.wire.resume();
  }

  /** Drops the connection without a word, as a crashed client would. */
  destroy(): void {
    this.wire.destroy();
  }

  async hello(nick: string, clientId = `raw-${nick}`): Promise<void> {
    this.sendFrame({ type: 'hello', version: PROTOCOL_VERSION, nick, clientId });
    await this.waitForFrame('welcome');
  }

  async waitForFrame<T extends ServerFrame['type']>(
    type: T,
    timeoutMs = 10_000,
  ): Promise<Extract<ServerFrame, { type: T }>> {
    const find = () => this.frames.find((f) => f.type === type);
    await waitFor(() => find() !== undefined, `a ${type} frame`, timeoutMs);
    return find() as Extract<ServerFrame, { type: T }>;
  }

  async waitForClose(timeoutMs = 10_000): Promise<void> {
    await waitFor(() => this.isClosed, 'the node to close the connection', timeoutMs);
  }

  private receive(chunk: Uint8Array): void {
    const { frames } = this.decoder.push(chunk);
    this.frames.push(...frames);
  }
}
