// ChatClient against a node played by the test, frame by frame, for the edges of the
// inbox resume that a real cluster produces only by chance: a direct message replayed
// and then delivered live, a replay in pages, a resend under another id.
import {
  BaseChatClient,
  type ConnectedInfo,
  type DirectMessage,
  type Transport,
  type TransportHandlers,
} from '@meshchat/client';
import {
  type ClientFrame,
  type Cursor,
  clientFrameSchemas,
  encodeFrame,
  FrameDecoder,
  type ServerFrame,
  type ServerFrameOf,
} from '@meshchat/protocol';
import { describe, expect, it } from 'vitest';
import { onCleanup, waitFor } from '../../../test/harness/index.js';

/** One connection the client opened; the test answers for the node. */
class ScriptedConnection {
  readonly frames: ClientFrame[] = [];
  private readonly decoder = new FrameDecoder(clientFrameSchemas);
  isClosed = false;
  // A node closes the connection when the client says bye.
  answersBye = true;

  constructor(
    readonly server: string,
    private readonly handlers: TransportHandlers,
  ) {}

  write(bytes: Uint8Array): void {
    const { frames } = this.decoder.push(bytes);
    this.frames.push(...frames);
    if (this.answersBye && frames.some((f) => f.type === 'bye')) this.end('closed by the node');
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

  welcome(nodeId: string, inbox: Cursor, servers: string[] = [this.server]): void {
    this.send({
      type: 'welcome',
      version: 2,
      nodeId,
      sessionId: `${nodeId}-session`,
      clientId: 'c-alice',
      nick: 'alice',
      servers,
      inbox,
      limits: { maxMessageLength: 4000, idleTimeoutMs: 15_000 },
    });
  }
}

/** A Transport whose every connection is a ScriptedConnection. */
class ScriptedTransport implements Transport {
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

function scriptedClient(options: { discoverServers?: boolean } = {}) {
  const transport = new ScriptedTransport();
  const client = new BaseChatClient({
    servers: ['10.0.0.1:7001', '10.0.0.2:7001'],
    nick: 'alice',
    clientId: 'c-alice',
    transport,
    random: () => 0,
    backoff: { initialMs: 1, maxMs: 1 },
    ...options,
  });
  onCleanup(() => client.close());
  const directs: DirectMessage[] = [];
  const connected: ConnectedInfo[] = [];
  client.on('direct', (d) => directs.push(d));
  client.on('connected', (c) => connected.push(c));
  return { client, transport, directs, connected };
}

let clientMsgIds = 0;
function direct(
  origin: string,
  seq: number,
  text: string,
  clientMsgId = `m${++clientMsgIds}`,
): ServerFrameOf<'direct'> {
  return {
    type: 'direct',
    id: { room: '@c-alice', origin, seq },
    hlc: seq,
    from: { clientId: 'c-bob', nick: 'bob' },
    to: 'alice',
    text,
    clientMsgId,
    sentAt: 0,
  };
}

describe('ChatClient inbox resume (against a scripted node)', () => {
  it('starts its inbox at the position the first welcome gives, and shows each direct message once', async () => {
    const { client, transport, directs } = scriptedClient();
    const connecting = client.connect();
    const first = await transport.waitForConnection(1);
    const hello = await first.waitForFrame('hello');
    expect(hello.inbox).toBeUndefined();
    first.welcome('n1', { n1: 5 });
    await connecting;

    first.send(direct('n1', 5, 'old: sent before this client started'));
    first.send(direct('n1', 6, 'live'));
    first.send(direct('n1', 6, 'live'));
    expect(directs.map((d) => d.text)).toEqual(['live']);
  });

  it('hands its inbox cursor over on reconnect, pulls every replay page, and drops what the replay and live delivery both bring', async () => {
    const { client, transport, directs, connected } = scriptedClient();
    const connecting = client.connect();
    const first = await transport.waitForConnection(1);
    first.welcome('n1', { n1: 5 });
    await connecting;
    first.send(direct('n1', 6, 'one'));
    first.end('socket closed');

    const second = await transport.waitForConnection(2);
    expect((await second.waitForFrame('hello')).inbox).toEqual({ n1: 6 });
    second.welcome('n2', { n1: 9, n2: 1 });
    second.send(direct('n1', 7, 'two'));
    second.send(direct('n2', 1, 'three'));
    second.send({ type: 'inbox_replayed', cursor: { n1: 7, n2: 1 }, complete: false });
    expect((await second.waitForFrame('inbox')).cursor).toEqual({ n1: 7, n2: 1 });
    expect(connected).toHaveLength(1);

    second.send(direct('n1', 7, 'two'));
    second.send(direct('n1', 8, 'four'));
    second.send({ type: 'inbox_replayed', cursor: { n1: 8, n2: 1 }, complete: true });
    await waitFor(() => connected.length === 2, 'the resume to complete');
    expect(connected[1]).toMatchObject({ nodeId: 'n2', caughtUp: 3, lost: { nodeId: 'n1', reason: 'socket closed' } });

    // Live after the replay: one already replayed is dropped, the next is shown.
    second.send(direct('n1', 8, 'four'));
    second.send(direct('n1', 9, 'five'));
    expect(directs.map((d) => d.text)).toEqual(['one', 'two', 'three', 'four', 'five']);
  });

  it('drops a direct message resent to another node under a new id', async () => {
    const { client, transport, directs } = scriptedClient();
    const connecting = client.connect();
    const first = await transport.waitForConnection(1);
    first.welcome('n1', {});
    await connecting;
    first.send(direct('n1', 1, 'psst', 'bob-1'));
    first.send(direct('n2', 1, 'psst', 'bob-1'));
    first.send(direct('n2', 2, 'again?', 'bob-2'));
    expect(directs.map((d) => `${d.id.origin}:${d.id.seq} ${d.text}`)).toEqual(['n1:1 psst', 'n2:2 again?']);
  });

  it('waits for the inbox replay before reporting the resume and resending unacked messages', async () => {
    const { client, transport, connected } = scriptedClient();
    const connecting = client.connect();
    const first = await transport.waitForConnection(1);
    first.welcome('n1', {});
    await connecting;
    first.end('socket closed');
    const dm = client.dm('bob', 'are you there?');

    const second = await transport.waitForConnection(2);
    second.welcome('n2', {});
    await second.waitForFrame('hello');
    expect(second.framesOf('dm')).toEqual([]);
    second.send({ type: 'inbox_replayed', cursor: {}, complete: true });
    const resent = await second.waitForFrame('dm');
    second.send({ type: 'ack', clientMsgId: resent.clientMsgId, id: { room: '@c-bob', origin: 'n2', seq: 1 } });
    await expect(dm).resolves.toEqual({ id: { room: '@c-bob', origin: 'n2', seq: 1 } });
    expect(connected.map((c) => c.nodeId)).toEqual(['n1', 'n2']);
  });

  it.each([true, false])('adds the servers a node pushes to its list when discoverServers is %s', async (discover) => {
    const { client, transport } = scriptedClient({ discoverServers: discover });
    const connecting = client.connect();
    const first = await transport.waitForConnection(1);
    first.welcome('n1', {}, []);
    await connecting;
    first.send({ type: 'servers', servers: ['10.0.0.1:7001', '10.0.0.3:7001'] });
    expect(client.knownServers.includes('10.0.0.3:7001')).toBe(discover);
  });

  it('says bye on close and returns once the node has closed the connection', async () => {
    const { client, transport } = scriptedClient();
    const connecting = client.connect();
    const first = await transport.waitForConnection(1);
    first.welcome('n1', {});
    first.answersBye = false;
    await connecting;
    let isClosed = false;
    const closing = client.close().then(() => {
      isClosed = true;
    });
    await first.waitForFrame('bye');
    expect(isClosed).toBe(false);
    first.end('closed by the node');
    await closing;
    expect(transport.connections).toHaveLength(1);
  });
});
