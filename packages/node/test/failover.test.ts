// What a client's failover looks like to everyone else: direct messages sent while it
// moves reach it once after it resumes, presence shows no leave and join when it is
// back within resumeGraceMs, and nodes added after it started are in its failover list.
import type { ConnectedInfo } from '@meshchat/client';
import type { NodeConfigInput } from '@meshchat/node';
import { describe, expect, it } from 'vitest';
import {
  connectClient,
  FaultProxy,
  type LoggedNode,
  type NodeProcess,
  startLoggedNode,
  startProcessCluster,
  type TestClient,
  waitFor,
  waitForFullMesh,
  waitForViews,
} from '../../../test/harness/index.js';
import { CLUSTER_CONFIG, RoomWatcher } from './cluster-helpers.js';

const ROOM = 'general';

// Reconnects quickly, tries its servers in the order given (random() near 1 keeps the
// shuffled list as it was) and uses only those, so a test decides where it can go.
const PINNED = { random: () => 0.999999, discoverServers: false, backoff: { initialMs: 20, maxMs: 50 } };

/** In-process nodes n1..n<size>, each seeded with n1, in a full mesh. */
async function startCluster(size: number, config: Partial<NodeConfigInput> = {}): Promise<LoggedNode[]> {
  const first = await startLoggedNode({ ...CLUSTER_CONFIG, ...config, nodeId: 'n1' });
  const nodes = [first];
  for (let i = 2; i <= size; i++) {
    nodes.push(await startLoggedNode({ ...CLUSTER_CONFIG, ...config, nodeId: `n${i}`, seeds: [first.peerAddress] }));
  }
  await waitForFullMesh(nodes);
  return nodes;
}

/** Records the client's `connected` events from now on. */
function connections(client: TestClient): ConnectedInfo[] {
  const seen: ConnectedInfo[] = [];
  client.client.on('connected', (c) => seen.push(c));
  return seen;
}

/** The presence events a watcher saw for `nick`, as "event@node". */
function presenceOf(watcher: RoomWatcher, nick: string): string[] {
  return watcher.presence.filter((p) => p.member.nick === nick).map((p) => `${p.event}@${p.member.nodeId}`);
}

describe('direct messages across failover', () => {
  it('a DM sent while its recipient fails over after kill -9 of its node is taken, and delivered once after it resumes elsewhere', async () => {
    const nodes = await startProcessCluster(3, { config: CLUSTER_CONFIG });
    const [n1, n2, n3] = nodes as [NodeProcess, NodeProcess, NodeProcess];
    await waitForFullMesh(nodes);
    // Alice can reach n2 only through a proxy, held shut until the DMs are in.
    const toN2 = await FaultProxy.start(n2.addresses.clients);
    const alice = await connectClient([n1.addresses.clients, toN2.address], 'alice', PINNED);
    expect(alice.client.nodeId).toBe('n1');
    const bob = await connectClient(n3.addresses.clients, 'bob');
    await bob.client.dm('alice', 'before');
    await waitFor(() => alice.directs.length === 1, 'alice to get "before"');

    toN2.block();
    await n1.kill();
    await waitFor(() => !alice.client.isConnected, 'alice to lose n1');
    for (const n of [1, 2, 3]) await bob.client.dm('alice', `while away ${n}`);
    // All of them on n2 before alice is let in, so the resume has them all to replay.
    const inbox = `@${alice.client.clientId}`;
    await waitForViews([n2], ([v]) => v?.rooms[inbox]?.vector.n3 === 4, 'n2 to hold the four DMs');
    const connected = connections(alice);
    toN2.unblock();
    await waitFor(() => connected.length === 1, 'alice to resume on n2');
    expect(connected[0]).toMatchObject({ nodeId: 'n2', caughtUp: 3, lost: { nodeId: 'n1' } });

    await bob.client.dm('alice', 'after');
    await waitFor(() => alice.directs.length === 5, 'alice to get "after"');
    expect(alice.directs.map((d) => d.text)).toEqual([
      'before',
      'while away 1',
      'while away 2',
      'while away 3',
      'after',
    ]);
    expect(alice.directs.map((d) => `${d.id.origin}:${d.id.seq}`)).toEqual(['n3:1', 'n3:2', 'n3:3', 'n3:4', 'n3:5']);
  });

  it('takes DMs for a client gone without a goodbye until its grace ends, refuses them after, and replays those taken when it is back', async () => {
    const node = await startLoggedNode({ nodeId: 'solo', resumeGraceMs: 2000 });
    const proxy = await FaultProxy.start(node.address);
    const alice = await connectClient(proxy.address, 'alice', PINNED);
    const bob = await connectClient(node.address, 'bob');
    await alice.client.join(ROOM);
    await bob.client.join(ROOM);

    proxy.block();
    await waitFor(() => node.chat.sessionCount === 1, 'the node to notice alice gone');
    await bob.client.dm('alice', 'are you there?');
    await waitFor(() => bob.presence.some((p) => p.event === 'left'), 'bob to see alice leave after the grace');
    await expect(bob.client.dm('alice', 'too late')).rejects.toMatchObject({ code: 'NO_SUCH_USER' });

    const connected = connections(alice);
    proxy.unblock();
    await waitFor(() => connected.length === 1, 'alice to come back');
    expect(connected[0]?.caughtUp).toBe(1);
    expect(alice.directs.map((d) => d.text)).toEqual(['are you there?']);
  });

  it('DMs sent without pause while their recipient fails over again and again arrive once each, in order', async () => {
    const [a, b] = (await startCluster(2)) as [LoggedNode, LoggedNode];
    const proxies = { n1: await FaultProxy.start(a.address), n2: await FaultProxy.start(b.address) };
    const alice = await connectClient([proxies.n1.address, proxies.n2.address], 'alice', PINNED);
    const bob = await connectClient(b.address, 'bob');

    const sent: string[] = [];
    let isSending = true;
    const sending = (async () => {
      for (let n = 0; isSending; n++) {
        await bob.client.dm('alice', `dm ${n}`);
        sent.push(`dm ${n}`);
      }
    })();
    const connected = connections(alice);
    for (let failover = 1; failover <= 4; failover++) {
      const count = sent.length;
      await waitFor(() => sent.length >= count + 5, 'a few more DMs before the next cut');
      proxies[alice.client.nodeId as 'n1' | 'n2'].cut();
      await waitFor(() => connected.length === failover, `alice to resume (failover ${failover})`);
    }
    isSending = false;
    await sending;
    await waitFor(() => alice.directs.length >= sent.length, `alice to get all ${sent.length} DMs`);
    expect(alice.directs.map((d) => d.text)).toEqual(sent);
  });
});

describe('direct messages to a client failing over, on a node that never heard of it', () => {
  it("a node that started as the recipient's node stopped waits for the recipient to resume rather than refusing the DM", async () => {
    const n1 = await startLoggedNode({ ...CLUSTER_CONFIG, nodeId: 'n1' });
    // n2's seed is n1, out of its reach: it knows no one, so nobody tells it who was on n1.
    const toN1 = await FaultProxy.start(n1.peerAddress);
    toN1.block();
    const n2 = await startLoggedNode({ ...CLUSTER_CONFIG, nodeId: 'n2', seeds: [toN1.address] });
    const toN2 = await FaultProxy.start(n2.address);
    const bob = await connectClient([n1.address, toN2.address], 'bob', PINNED);
    const alice = await connectClient([n1.address, n2.address], 'alice', PINNED);
    toN2.block();
    await n1.stop();
    await waitFor(() => alice.client.nodeId === 'n2', 'alice to fail over to n2');
    const sent = alice.client.dm('bob', 'are you there?');
    await waitFor(() => n2.chat.awaitedDirectCount === 1, 'n2 to hold the DM for bob');
    expect(bob.client.isConnected).toBe(false);

    toN2.unblock();
    const { id } = await sent;
    await waitFor(() => bob.directs.length === 1, 'bob to get the DM after resuming on n2');
    expect(bob.client.nodeId).toBe('n2');
    expect(bob.directs.map((d) => ({ text: d.text, id: d.id }))).toEqual([{ text: 'are you there?', id }]);
    expect(n2.chat.awaitedDirectCount).toBe(0);
  });

  it('a node that joins while a client fails over learns it from a peer holding it in its grace, and takes DMs to it at once', async () => {
    const [n1, n2] = (await startCluster(2)) as [LoggedNode, LoggedNode];
    const toN2 = await FaultProxy.start(n2.address);
    const bob = await connectClient([n1.address, toN2.address], 'bob', PINNED);
    toN2.block();
    await n1.stop();
    await waitFor(() => n2.membership.get('n1')?.state === 'dead', 'n2 to hold n1 dead');

    // n3 hears of n1 only as dead, and of bob only through n2's snapshot.
    const n3 = await startLoggedNode({ ...CLUSTER_CONFIG, nodeId: 'n3', seeds: [n2.peerAddress] });
    await waitForFullMesh([n2, n3]);
    const alice = await connectClient(n3.address, 'alice');
    const { id } = await alice.client.dm('bob', 'welcome back');
    expect(bob.client.isConnected).toBe(false);

    toN2.unblock();
    await waitFor(() => bob.directs.length === 1, 'bob to get the DM after resuming on n2');
    expect(bob.directs.map((d) => ({ text: d.text, id: d.id }))).toEqual([{ text: 'welcome back', id }]);
  });
});

describe('presence across failover', () => {
  it('shows no leave or join on any node for a client that resumes within the grace after kill -9 of its node; one that cannot is seen to leave after it', async () => {
    const nodes = await startProcessCluster(3, { config: CLUSTER_CONFIG });
    const [n1, n2, n3] = nodes as [NodeProcess, NodeProcess, NodeProcess];
    await waitForFullMesh(nodes);
    const watchers = [await RoomWatcher.open(n2, 'w2', ROOM), await RoomWatcher.open(n3, 'w3', ROOM)];
    const alice = await connectClient([n1.addresses.clients, n2.addresses.clients], 'alice', PINNED);
    // Dave knows only n1: he cannot resume, and shows when the grace of n1's clients ends.
    const dave = await connectClient(n1.addresses.clients, 'dave', PINNED);
    await alice.client.join(ROOM);
    await dave.client.join(ROOM);
    for (const watcher of watchers) {
      await waitFor(
        () => watcher.hasPresence('joined', 'alice', 'n1') && watcher.hasPresence('joined', 'dave', 'n1'),
        `the watcher on ${watcher.nodeId} to see alice and dave join`,
      );
    }

    const connected = connections(alice);
    await n1.kill();
    await waitFor(() => connected.length === 1, 'alice to resume on n2');
    expect(connected[0]?.nodeId).toBe('n2');
    // Both lost n1 together: once dave's leave is shown, alice's would have been too.
    for (const watcher of watchers) {
      await waitFor(
        () => watcher.hasPresence('left', 'dave', 'n1'),
        `the watcher on ${watcher.nodeId} to see dave leave`,
      );
      expect(presenceOf(watcher, 'alice'), `alice as seen on ${watcher.nodeId}`).toEqual(['joined@n1']);
    }
    const members = await alice.client.who(ROOM);
    expect(members.map((m) => `${m.nick}@${m.nodeId}`).sort()).toEqual(['alice@n2', 'w2@n2', 'w3@n3']);
  });

  it('shows no leave or join for a client whose node closed its connection and that resumes on another within the grace', async () => {
    const [a, b] = (await startCluster(2)) as [LoggedNode, LoggedNode];
    const watchers = [await RoomWatcher.open(a, 'w1', ROOM), await RoomWatcher.open(b, 'w2', ROOM)];
    const toA = await FaultProxy.start(a.address);
    const daveToA = await FaultProxy.start(a.address);
    const alice = await connectClient([toA.address, b.address], 'alice', PINNED);
    const dave = await connectClient(daveToA.address, 'dave', PINNED);
    await alice.client.join(ROOM);
    await dave.client.join(ROOM);
    for (const watcher of watchers) {
      await waitFor(() => watcher.hasPresence('joined', 'dave', 'n1'), `${watcher.nodeId} to see dave join`);
    }

    const connected = connections(alice);
    toA.block();
    await waitFor(() => connected.length === 1, 'alice to resume on n2');
    await waitFor(() => a.chat.sessionCount === 2, 'n1 to have closed her session');
    // Dave goes after alice did, so his leave is shown after hers would have been.
    daveToA.block();
    for (const watcher of watchers) {
      await waitFor(() => watcher.hasPresence('left', 'dave', 'n1'), `${watcher.nodeId} to see dave leave`);
      expect(presenceOf(watcher, 'alice'), `alice as seen on ${watcher.nodeId}`).toEqual(['joined@n1']);
    }
  });

  it('announces the leave of a client that closes (it says bye) at once, with no grace', async () => {
    const node = await startLoggedNode({ nodeId: 'solo', resumeGraceMs: 600_000 });
    const observer = await connectClient(node.address, 'observer');
    const carol = await connectClient(node.address, 'carol');
    await observer.client.join(ROOM);
    await carol.client.join(ROOM);
    await carol.client.close();
    await waitFor(() => observer.presence.some((p) => p.event === 'left'), 'observer to see carol leave');
    expect((await observer.client.who(ROOM)).map((m) => m.nick)).toEqual(['observer']);
    await expect(observer.client.dm('carol', 'gone?')).rejects.toMatchObject({ code: 'NO_SUCH_USER' });
  });
});

describe('the client addresses nodes push', () => {
  it('reach a client that started before the node existed, and its failover uses that node when every seed is gone', async () => {
    const a = await startLoggedNode({ ...CLUSTER_CONFIG, nodeId: 'n1' });
    const alice = await connectClient(a.address, 'alice', { backoff: { initialMs: 20, maxMs: 50 } });
    await alice.client.join(ROOM);
    expect(alice.client.knownServers).toEqual([a.address]);

    const b = await startLoggedNode({ ...CLUSTER_CONFIG, nodeId: 'n2', seeds: [a.peerAddress] });
    await waitFor(() => alice.client.knownServers.includes(b.address), 'alice to be told of n2');
    const bob = await connectClient(b.address, 'bob');
    await bob.client.join(ROOM);

    const connected = connections(alice);
    await a.stop();
    await waitFor(() => connected.length === 1, 'alice to fail over');
    expect(connected[0]).toMatchObject({ nodeId: 'n2', server: b.address });
    await alice.client.send(ROOM, 'made it');
    await waitFor(() => bob.messages.some((m) => m.text === 'made it'), 'bob to get it');
  });
});
