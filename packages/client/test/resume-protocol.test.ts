// ChatClient against a node played by the test, frame by frame, for the edges of the
// inbox resume that a real cluster produces only by chance: a direct message replayed
// and then delivered live, a replay in pages, a resend under another id.
import { BaseChatClient, type ConnectedInfo, type DirectMessage } from '@meshchat/client';
import type { ServerFrameOf } from '@meshchat/protocol';
import { describe, expect, it } from 'vitest';
import { onCleanup, waitFor } from '../../../test/harness/index.js';
import { ScriptedTransport } from './scripted-node.js';

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
