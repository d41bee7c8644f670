import { connect, type Socket } from 'node:net';
import { encodeFrame, FrameDecoder, PROTOCOL_VERSION, type ServerFrame, serverFrameSchemas } from '@meshchat/protocol';
import { onCleanup } from './cleanup.js';
import { waitFor } from './wait.js';

/**
 * A bare socket to a node that can send any bytes and records the frames it gets
 * back: for tests of bad input, floods and slow readers.
 */
export class RawConnection {
  readonly frames: ServerFrame[] = [];
  isClosed = false;
  private readonly decoder = new FrameDecoder(serverFrameSchemas, { maxFrameBytes: 16 * 1024 * 1024 });

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      const { frames } = this.decoder.push(chunk);
      this.frames.push(...frames);
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.isClosed = true;
    });
  }

  /** `localAddress`: another loopback address (127.0.0.2) to connect from, for per-address limits. */
  static async open(address: string, options: { localAddress?: string } = {}): Promise<RawConnection> {
    const [host, port] = address.split(':');
    const socket = connect({ host, port: Number(port), ...options });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const raw = new RawConnection(socket);
    onCleanup(() => socket.destroy());
    return raw;
  }

  sendFrame(frame: object): void {
    this.socket.write(encodeFrame(frame));
  }

  sendBytes(bytes: Uint8Array): void {
    this.socket.write(bytes);
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
}
