// A node played by the test, frame by frame: a Transport whose connections record what
// the client writes and let the test answer, for the edges a real cluster produces only
// by chance (or only with timing).
import type { Transport, TransportHandlers } from '@meshchat/client';
import {
  type ClientFrame,
  type Cursor,
  clientFrameSchemas,
  encodeFrame,
  FrameDecoder,
  type ServerFrame,
} from '@meshchat/protocol';
import { waitFor } from '../../../test/harness/index.js';

/** One connection the client opened; the test answers for the node. */
export class ScriptedConnection {
  readonly frames: ClientFrame[] = [];
  private readonly decoder = new FrameDecoder(clientFrameSchemas);
  isClosed = false;
  // A node closes the connection when the client says bye.
  answersBye = true;
  // A node answers every ping with a pong; a hung one answers nothing.
  answersPings = false;

  constructor(
    readonly server: string,
    private readonly handlers: TransportHandlers,
  ) {}

  write(bytes: Uint8Array): void {
    const { frames } = this.decoder.push(bytes);
    this.frames.push(...frames);
    if (this.answersBye && frames.some((f) => f.type === 'bye')) this.end('closed by the node');
    for (const frame of frames) {
      if (frame.type !== 'ping' || !this.answersPings) continue;
      queueMicrotask(() => {
        if (!this.isClosed) this.send({ type: 'pong', nonce: frame.nonce });
      });
    }
  }

  close(): void {
    this.end('closed by client');
  }

  send(frame: ServerFrame): void {
    this.handlers.onData(encodeFrame(frame));
  }

  end(reason: string): void {
    if (this.isClosed) return;
    this.isClosed = true;
    queueMicrotask(() => this.handlers.onClose(reason));
  }

  framesOf<T extends ClientFrame['type']>(type: T): Extract<ClientFrame, { type: T }>[] {
    return this.frames.filter((f): f is Extract<ClientFrame, { type: T }> => f.type === type);
  }

  async waitForFrame<T extends ClientFrame['type']>(type: T, count = 1): Promise<Extract<ClientFrame, { type: T }>> {
    await waitFor(() => this.framesOf(type).length >= count, `the client to send ${count} ${type} frame(s)`);
    return this.framesOf(type)[count - 1] as Extract<ClientFrame, { type: T }>;
  }

  welcome(nodeId: string, inbox: Cursor, servers: string[] = [this.server], idleTimeoutMs = 15_000): void {
    this.send({
      type: 'welcome',
      version: 2,
      nodeId,
      sessionId: `${nodeId}-session`,
      clientId: 'c-alice',
      nick: 'alice',
      servers,
      inbox,
      limits: { maxMessageLength: 4000, idleTimeoutMs },
    });
  }
}

/** A Transport whose every connection is a ScriptedConnection. */
export class ScriptedTransport implements Transport {
  readonly connections: ScriptedConnection[] = [];

  open(server: string, handlers: TransportHandlers): ScriptedConnection {
    const connection = new ScriptedConnection(server, handlers);
    this.connections.push(connection);
    queueMicrotask(() => handlers.onOpen());
    return connection;
  }

  async waitForConnection(n: number): Promise<ScriptedConnection> {
    await waitFor(() => this.connections.length >= n, `connection ${n}`);
    return this.connections[n - 1] as ScriptedConnection;
  }
}
