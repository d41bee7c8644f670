import { ChatClient, ChatClientError, type ConnectedInfo, type DisconnectedInfo } from '@meshchat/client';
import { describe, expect, it } from 'vitest';
import {
  connectClient,
  FaultProxy,
  onCleanup,
  startNode,
  type TestNode,
  waitFor,
} from '../../../test/harness/index.js';

describe('ChatClient against a node', () => {
  it('connects, joins, sends and receives with ids and acks', async () => {
    const node = await startNode();
    const alice = await connectClient(node.address, 'alice');
    const bob = await connectClient(node.address, 'bob');
    expect(alice.client.nodeId).toBe(node.nodeId);
    await alice.client.join('general');
    const { members } = await bob.client.join('general');
    expect(members.map((m) => m.nick).sort()).toEqual(['alice', 'bob']);

    const { id } = await alice.client.send('general', 'hi bob');
    expect(id).toEqual({ room: 'general', origin: node.nodeId, seq: 1 });
    await waitFor(() => bob.messages.length === 1, 'bob to receive the message');
    expect(bob.messages[0]).toMatchObject({
      ...id,
      text: 'hi bob',
      from: { nick: 'alice', clientId: alice.client.clientId },
    });
  });

  it('rejects a send to a room it has not joined with NOT_IN_ROOM, and keeps working', async () => {
    const node = await startNode();
    const alice = await connectClient(node.address, 'alice');
    await expect(alice.client.send('elsewhere', 'x')).rejects.toMatchObject({ code: 'NOT_IN_ROOM' });
    await alice.client.join('general');
    await expect(alice.client.send('general', 'ok')).resolves.toMatchObject({ id: { seq: 1 } });
  });

  it('rejects connect with CONNECT_FAILED naming every server when none answers', async () => {
    const node = await startNode();
    const deadAddress = node.address;
    await node.stop();
    const client = new ChatClient({ servers: [deadAddress, '127.0.0.1:1'], nick: 'alice' });
    onCleanup(() => client.close());
    const error = await client.connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChatClientError);
    expect((error as ChatClientError).code).toBe('CONNECT_FAILED');
    expect((error as ChatClientError).message).toContain(deadAddress);
    expect((error as ChatClientError).message).toContain('127.0.0.1:1');
  });

  it('stops for good with NICK_TAKEN instead of retrying', async () => {
    const node = await startNode();
    await connectClient(node.address, 'alice');
    const second = new ChatClient({ servers: [node.address], nick: 'alice' });
    onCleanup(() => second.close());
    const closed: string[] = [];
    second.on('closed', ({ reason }) => closed.push(reason));
    await expect(second.connect()).rejects.toMatchObject({ code: 'NICK_TAKEN' });
    expect(closed).toHaveLength(1);
  });

  it('settles pending calls with CLOSED on close()', async () => {
    const node = await startNode();
    const proxy = await FaultProxy.start(node.address);
    const alice = await connectClient(proxy.address, 'alice');
    await alice.client.join('general');
    proxy.block();
    await waitFor(() => !alice.client.isConnected, 'the client to notice the cut');
    const pending = alice.client.send('general', 'never sent');
    await alice.client.close();
    await expect(pending).rejects.toMatchObject({ code: 'CLOSED' });
  });
});

/**
 * alice reaches the node only through a fault proxy (and reconnects through it only,
 * not straight to the node's advertised address); bob is connected directly. Both are
 * in "general".
 */
async function aliceBehindProxyAndBob(node: TestNode) {
  const proxy = await FaultProxy.start(node.address);
  const alice = await connectClient(proxy.address, 'alice', {
    backoff: { initialMs: 20, maxMs: 50 },
    discoverServers: false,
  });
  const bob = await connectClient(node.address, 'bob');
  await alice.client.join('general');
  await bob.client.join('general');
  return { proxy, alice, bob };
}

describe('ChatClient failover and resume', () => {
  it('moves to the next server when its node shuts down, rejoins its rooms and reports how long it took', async () => {
    const a = await startNode({ nodeId: 'node-a' });
    const b = await startNode({ nodeId: 'node-b' });
    // Seeds in a fixed order (random() = 0 keeps the list as given after the shuffle).
    const alice = await connectClient([a.address, b.address], 'alice', { random: () => 0.999999 });
    const onA = alice.client.nodeId;
    const other = onA === 'node-a' ? b : a;
    await alice.client.join('general');
    const disconnected: DisconnectedInfo[] = [];
    const connected: ConnectedInfo[] = [];
    alice.client.on('disconnected', (d) => disconnected.push(d));
    alice.client.on('connected', (c) => connected.push(c));

    await (onA === 'node-a' ? a : b).stop();
    await waitFor(() => connected.length === 1, 'the client to reconnect');
    expect(disconnected[0]).toMatchObject({ nodeId: onA });
    expect(disconnected[0]?.reason).toContain('SHUTTING_DOWN');
    expect(connected[0]).toMatchObject({ nodeId: other.nodeId, caughtUp: 0 });
    expect(connected[0]?.failoverMs).toBeGreaterThanOrEqual(0);

    const bob = await connectClient(other.address, 'bob');
    await bob.client.join('general');
    await waitFor(async () => (await bob.client.who('general')).length === 2, 'alice to be back in general');
    await alice.client.send('general', 'after failover');
    await waitFor(() => bob.messages.some((m) => m.text === 'after failover'), 'bob to get the message');
  });

  it('resumes from its cursor after a dropped connection: missed messages once, none twice', async () => {
    const node = await startNode();
    const { proxy, alice, bob } = await aliceBehindProxyAndBob(node);
    for (let i = 0; i < 5; i++) await bob.client.send('general', `before ${i}`);
    await waitFor(() => alice.messages.length === 5, 'alice to receive the first five');

    const connected: ConnectedInfo[] = [];
    alice.client.on('connected', (c) => connected.push(c));
    proxy.block();
    await waitFor(() => !alice.client.isConnected, 'alice to notice the cut');
    for (let i = 0; i < 7; i++) await bob.client.send('general', `while away ${i}`);
    proxy.unblock();
    await waitFor(() => connected.length === 1, 'alice to reconnect');
    expect(connected[0]?.caughtUp).toBe(7);
    await bob.client.send('general', 'live again');
    await waitFor(() => alice.messages.length === 13, 'alice to receive everything');
    const seqs = alice.messages.map((m) => m.seq);
    expect(seqs).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
  });

  it('catches up a long absence in pages, every missed message once and in order', async () => {
    const node = await startNode({ limits: { ratePerSec: 10_000, rateBurst: 10_000 } });
    const { proxy, alice, bob } = await aliceBehindProxyAndBob(node);
    const connected: ConnectedInfo[] = [];
    alice.client.on('connected', (c) => connected.push(c));
    proxy.block();
    await waitFor(() => !alice.client.isConnected, 'alice to notice the cut');
    // 300 messages of 1,000 characters need several 256 KiB pages.
    const text = 'y'.repeat(1000);
    await Promise.all(Array.from({ length: 300 }, (_, i) => bob.client.send('general', `${i} ${text}`)));
    proxy.unblock();
    await waitFor(() => connected.length === 1, 'alice to reconnect and catch up');
    expect(connected[0]?.caughtUp).toBe(300);
    expect(alice.messages.map((m) => m.seq)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
  });

  it('resends unacked messages after reconnecting, each acked once and shown once', async () => {
    const node = await startNode();
    const { proxy, alice, bob } = await aliceBehindProxyAndBob(node);
    proxy.block();
    await waitFor(() => !alice.client.isConnected, 'alice to notice the cut');
    const sends = [1, 2, 3].map((i) => alice.client.send('general', `queued ${i}`));
    proxy.unblock();
    const acks = await Promise.all(sends);
    expect(acks.map((a) => a.id.seq)).toEqual([1, 2, 3]);
    await waitFor(() => bob.messages.length === 3, 'bob to receive the queued messages');
    expect(bob.messages.map((m) => m.text)).toEqual(['queued 1', 'queued 2', 'queued 3']);
  });

  it('learns the servers a node advertises', async () => {
    const node = await startNode();
    const proxy = await FaultProxy.start(node.address);
    const alice = await connectClient(proxy.address, 'alice');
    expect(alice.client.knownServers).toContain(node.address);
  });
});
