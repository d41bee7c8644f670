import type { ChatMessage } from '@meshchat/protocol';
import { describe, expect, it } from 'vitest';
import {
  connectClient,
  type LoggedNode,
  readStoreContents,
  startFaultyCluster,
  startNode,
  type TestNode,
  waitFor,
  waitForFullMesh,
  waitForMemberState,
  waitForViews,
} from '../../../test/harness/index.js';
import {
  CLUSTER_CONFIG,
  idKey,
  joinedClient,
  RoomWatcher,
  type Sent,
  sendBurst,
  storedIds,
  vectorsAgree,
} from './cluster-helpers.js';

const ROOM = 'general';
const KEEP = 40;
const retention = { maxMessages: KEEP, sweepMs: 100 };

async function retainedIds(node: TestNode): Promise<string[]> {
  const reader = await connectClient(node.address, `reader${Math.floor(Math.random() * 1e9)}`);
  const { messages } = await reader.client.history(ROOM, { limit: 1000 });
  await reader.client.close();
  return messages.map((m) => `${m.origin}/${m.seq}`);
}

describe('retention', () => {
  it('trims the same messages on every node, and vectors still agree', async () => {
    const a = await startNode({ nodeId: 'ra', retention });
    const b = await startNode({ nodeId: 'rb', seeds: [a.peerAddress], retention });
    const c = await startNode({ nodeId: 'rc', seeds: [a.peerAddress], retention });
    const nodes = [a, b, c];
    await waitForFullMesh(nodes);
    const senders = await Promise.all(nodes.map((n, i) => connectClient(n.address, `sender${i}`)));
    for (const s of senders) await s.client.join(ROOM);
    for (let round = 0; round < 50; round++) {
      await Promise.all(senders.map((s, i) => s.client.send(ROOM, `${i}:${round}`)));
    }

    // The digest is the vector's canonical hash: equal digests, equal vectors.
    const vectorOf = (n: TestNode) => n.clusterView().rooms[ROOM]?.digest;
    await waitFor(
      () => nodes.every((n) => n.clusterView().rooms[ROOM]?.messages === 150 && vectorOf(n) === vectorOf(a)),
      'every node to count all 150 messages in the room vector',
    );
    let kept: string[][] = [];
    await waitFor(async () => {
      kept = await Promise.all(nodes.map(retainedIds));
      return kept.every((ids) => ids.length === KEEP);
    }, `every node to keep only the newest ${KEEP} messages`).catch((err: Error) => {
      throw new Error(`${err.message}; kept ${kept.map((k) => k.length).join(', ')}`);
    });
    expect(kept[1]).toEqual(kept[0]);
    expect(kept[2]).toEqual(kept[0]);
  });

  it('a node that joins later receives only what is kept, skips what was trimmed, and its vector agrees', async () => {
    const a = await startNode({ nodeId: 'la', retention });
    const sender = await connectClient(a.address, 'sender');
    await sender.client.join(ROOM);
    for (let i = 0; i < 120; i++) await sender.client.send(ROOM, `m${i}`);
    await waitFor(async () => (await retainedIds(a)).length === KEEP, 'the first node to trim');

    const late = await startNode({ nodeId: 'lb', seeds: [a.peerAddress], retention });
    await waitForFullMesh([a, late]);
    await waitFor(
      () => late.clusterView().rooms[ROOM]?.digest === a.clusterView().rooms[ROOM]?.digest,
      'the late node to reach the same vector',
    );
    expect(await retainedIds(late)).toEqual(await retainedIds(a));
    // It keeps counting from there: a new message reaches it in order.
    const watcher = await connectClient(late.address, 'watcher');
    await watcher.client.join(ROOM);
    await sender.client.send(ROOM, 'after');
    await waitFor(() => watcher.messages.some((m) => m.text === 'after'), 'the new message on the late node');
  });
});

describe('retention on both sides of a partition', () => {
  // Only BUSY has a limit: a per-room policy, the other room keeps everything.
  const BUSY = 'busy';
  const QUIET = 'quiet';
  const config = {
    ...CLUSTER_CONFIG,
    limits: { ratePerSec: 10_000, rateBurst: 10_000 },
    retention: { rooms: { [BUSY]: { maxMessages: KEEP } }, sweepMs: 100 },
  };

  /** Ids of the newest KEEP messages among `messages`, in history order. */
  function newest(messages: readonly ChatMessage[]): string[] {
    const unique = new Map(messages.map((m) => [idKey(m), m]));
    return [...unique.values()]
      .sort((a, b) => a.hlc - b.hlc || (a.origin < b.origin ? -1 : a.origin > b.origin ? 1 : a.seq - b.seq))
      .slice(-KEEP)
      .map(idKey);
  }

  it('each side trims on its own while apart; after the heal every LMDB store holds the same kept ids, floors and vectors: the newest messages of all sent, the same ones trimmed everywhere', async () => {
    const { nodes, faults } = await startFaultyCluster(3, { config });
    const [n1, n2, n3] = nodes as [LoggedNode, LoggedNode, LoggedNode];
    await waitForFullMesh(nodes);
    // Each message reaches the watchers of its side live, before any sweep trims it, so
    // together they saw every message sent, with its hlc.
    const watchers = await Promise.all(nodes.map((n) => RoomWatcher.open(n, `w${n.nodeId}`, BUSY)));
    const senders = await Promise.all(nodes.map((n) => joinedClient(n, `s${n.nodeId}`, BUSY)));
    for (const sender of senders) await sender.client.join(QUIET);
    const sendEach = async (counts: readonly number[], room: string, label: string): Promise<Sent[]> =>
      (await Promise.all(senders.map((s, i) => sendBurst(s.client, room, counts[i] ?? 0, label)))).flat();

    const quiet = await sendEach([10, 10, 10], QUIET, 'kept');
    await sendEach([30, 30, 30], BUSY, 'together');
    const keptBusy = (node: LoggedNode) => storedIds(node, BUSY);
    await waitFor(
      async () => (await Promise.all(nodes.map(keptBusy))).every((ids) => ids.length === KEEP),
      `every node to trim ${BUSY} to ${KEEP} messages`,
    );

    faults.isolate('n3', ['n1', 'n2']);
    await waitForMemberState([n1, n2], 'n3', ['dead']);
    await waitForMemberState([n3], 'n1', ['dead']);
    await waitForMemberState([n3], 'n2', ['dead']);
    const majority = await sendEach([40, 40, 0], BUSY, 'apart');
    const minority = await sendEach([0, 0, 60], BUSY, 'alone');
    // Both sides trim what they hold, and keep different messages.
    const majorityIds = new Set(majority.map((s) => idKey(s.id)));
    const minorityIds = new Set(minority.map((s) => idKey(s.id)));
    await waitFor(async () => {
      const [k1, k2, k3] = await Promise.all(nodes.map(keptBusy));
      return (
        [k1, k2].every((k) => k?.length === KEEP && k.every((id) => majorityIds.has(id))) &&
        k3?.length === KEEP &&
        k3.every((id) => minorityIds.has(id))
      );
    }, 'each side to keep only its newest messages');

    faults.rejoin('n3', ['n1', 'n2']);
    await waitForFullMesh(nodes);
    for (const room of [BUSY, QUIET]) {
      await waitForViews(nodes, (views) => vectorsAgree(views, room), `equal vectors of ${room} on every node`);
    }
    const expected = newest(watchers.flatMap((w) => w.messages));
    const sortedExpected = [...expected].sort();
    let kept: string[][] = [];
    await waitFor(async () => {
      kept = await Promise.all(nodes.map(keptBusy));
      return kept.every((ids) => ids.length === KEEP && ids.every((id, i) => id === sortedExpected[i]));
    }, `every node to keep the ${KEEP} newest messages of both sides`).catch((err: Error) => {
      throw new Error(`${err.message}; kept ${JSON.stringify(kept)}, expected ${JSON.stringify(sortedExpected)}`);
    });

    await Promise.all(nodes.map((n) => n.stop()));
    const stores = await Promise.all(nodes.map((n) => readStoreContents(n.dataDir)));
    for (const [i, node] of nodes.entries()) {
      const store = stores[i];
      expect(store?.[BUSY]?.history, `${BUSY} history index on ${node.nodeId}`).toEqual(expected);
      expect(store?.[BUSY]?.ids, `${BUSY} message records on ${node.nodeId}`).toEqual(sortedExpected);
      expect(store?.[QUIET]?.ids, `${QUIET} on ${node.nodeId}: nothing trimmed`).toEqual(
        quiet.map((s) => idKey(s.id)).sort(),
      );
      expect(store?.[QUIET]?.floors, `${QUIET} floors on ${node.nodeId}`).toEqual({});
      // Same vectors and floors: the same messages trimmed on every node.
      expect(store, `the store of ${node.nodeId}`).toEqual(stores[0]);
    }
  });
});
