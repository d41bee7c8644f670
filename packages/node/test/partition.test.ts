// A partition with clients sending on both sides, then healed: every client gets every
// message once, and every node's LMDB store, read from disk after the nodes stop, holds
// the same ids. Twice: in-process nodes behind per-link proxies (runs anywhere), and
// node processes in network namespaces cut by the kernel (needs root and iproute2).
import { describe, expect, it } from 'vitest';
import {
  type AnyNode,
  type LoggedNode,
  type NodeProcess,
  probeNetns,
  readStoreContents,
  type StoredRoom,
  startFaultyCluster,
  startNetnsCluster,
  waitFor,
  waitForFullMesh,
  waitForMemberState,
} from '../../../test/harness/index.js';
import {
  CLUSTER_CONFIG,
  expectExactlyOnceInSenderOrder,
  expectSameRoomEverywhere,
  idKey,
  joinedClient,
  RoomWatcher,
  type Sent,
  Traffic,
} from './cluster-helpers.js';

const ROOM = 'split';
const CONFIG = { ...CLUSTER_CONFIG, limits: { ratePerSec: 10_000, rateBurst: 10_000 } };

/** A 3-node cluster the scenario can split into {n1, n2} and {n3} and heal. */
interface SplittableCluster {
  nodes: readonly AnyNode[];
  /** Cuts n3 off from n1 and n2. */
  isolateN3(): void;
  healN3(): void;
  /** Stops every node cleanly, so their stores can be opened. */
  stopAll(): Promise<void>;
  dataDirOf(node: AnyNode): string;
}

/** Every id of `sent` appears exactly once in what the watcher received (it may hold more). */
function expectEachOnce(watcher: RoomWatcher, sent: readonly Sent[], what: string): void {
  const counts = new Map<string, number>();
  for (const m of watcher.messages) counts.set(idKey(m), (counts.get(idKey(m)) ?? 0) + 1);
  const notOnce = sent.map((s) => idKey(s.id)).filter((key) => counts.get(key) !== 1);
  expect(notOnce, `${what}: messages not received exactly once by the watcher on ${watcher.nodeId}`).toEqual([]);
}

async function waitForEach(watcher: RoomWatcher, sent: readonly Sent[], what: string): Promise<void> {
  const wanted = sent.map((s) => idKey(s.id));
  await waitFor(() => {
    const got = new Set(watcher.messages.map(idKey));
    return wanted.every((key) => got.has(key));
  }, `the watcher on ${watcher.nodeId} to receive ${wanted.length} messages ${what}`);
}

async function partitionAndHeal(cluster: SplittableCluster): Promise<void> {
  const { nodes } = cluster;
  const [n1, n2, n3] = nodes as [AnyNode, AnyNode, AnyNode];
  const isN3 = (s: Sent) => s.id.origin === n3.nodeId;
  await waitForFullMesh(nodes);
  const watchers = await Promise.all(nodes.map((n) => RoomWatcher.open(n, `w${n.nodeId}`, ROOM)));
  const [w1, w2, w3] = watchers as [RoomWatcher, RoomWatcher, RoomWatcher];
  const senders = await Promise.all(nodes.map((n) => joinedClient(n, `s${n.nodeId}`, ROOM)));
  const clients = senders.map((s) => s.client);

  // The cut falls in the middle of a flow: some sends are in flight on both sides.
  const across = new Traffic(clients, ROOM);
  await across.waitForMore(15, 'before the partition');
  cluster.isolateN3();
  await waitForMemberState([n1, n2], n3.nodeId, ['dead']);
  await waitForMemberState([n3], n1.nodeId, ['dead']);
  await waitForMemberState([n3], n2.nodeId, ['dead']);
  await across.waitForMore(15, 'once the partition is detected');
  const acrossSent = await across.stop();

  // Sent after both sides saw the partition: nothing can cross it until it heals.
  const apart = new Traffic(clients, ROOM);
  await waitFor(
    () => apart.acked.filter(isN3).length >= 10 && apart.acked.filter((s) => !isN3(s)).length >= 20,
    'messages acked on both sides of the partition',
  );
  const apartSoFar = [...apart.acked];
  for (const watcher of [w1, w2]) {
    const side = [...acrossSent, ...apartSoFar].filter((s) => !isN3(s));
    await waitForEach(watcher, side, 'of its side of the partition');
    expectEachOnce(watcher, side, 'its side, while partitioned');
  }
  const minority = [...acrossSent, ...apartSoFar].filter(isN3);
  await waitForEach(w3, minority, 'of its side of the partition');
  expectEachOnce(w3, minority, 'its side, while partitioned');
  const crossed = (watcher: RoomWatcher, from: (s: Sent) => boolean) => {
    const keys = new Set(apartSoFar.filter(from).map((s) => idKey(s.id)));
    return watcher.messages.filter((m) => keys.has(idKey(m))).map(idKey);
  };
  expect(
    crossed(w3, (s) => !isN3(s)),
    'majority messages on n3 during the partition',
  ).toEqual([]);
  expect(crossed(w1, isN3), 'minority messages on n1 during the partition').toEqual([]);
  expect(crossed(w2, isN3), 'minority messages on n2 during the partition').toEqual([]);

  cluster.healN3();
  await waitForFullMesh(nodes);
  await apart.waitForMore(15, 'after the heal');
  const sent = [...acrossSent, ...(await apart.stop())];

  for (const watcher of watchers) await waitForEach(watcher, sent, 'once healed');
  for (const watcher of watchers) expectExactlyOnceInSenderOrder(watcher, sent);
  await expectSameRoomEverywhere(nodes, ROOM, sent);

  // On disk: the same vectors, ids and history index in every node's store.
  await cluster.stopAll();
  const stores = await Promise.all(nodes.map((n) => readStoreContents(cluster.dataDirOf(n))));
  const expectedIds = sent.map((s) => idKey(s.id)).sort();
  for (const [i, node] of nodes.entries()) {
    const room = stores[i]?.[ROOM] as StoredRoom;
    expect(room.ids, `ids in the store of ${node.nodeId}`).toEqual(expectedIds);
    expect(stores[i], `the store of ${node.nodeId}`).toEqual(stores[0]);
  }
}

const netns = probeNetns();

describe('a partition with clients sending on both sides, then healed', () => {
  it('in-process nodes behind per-link proxies: each side’s clients get their side’s messages once while apart, every client gets every message once in sender order after the heal, and every LMDB store holds the same ids', async () => {
    const { nodes, faults } = await startFaultyCluster(3, { config: CONFIG });
    await partitionAndHeal({
      nodes,
      isolateN3: () => faults.isolate('n3', ['n1', 'n2']),
      healN3: () => faults.rejoin('n3', ['n1', 'n2']),
      stopAll: async () => {
        await Promise.all(nodes.map((n) => n.stop()));
      },
      dataDirOf: (node) => (node as LoggedNode).dataDir,
    });
  });

  it.skipIf(!netns.isAvailable)(
    `node processes in network namespaces, n3's link set down by the kernel: the same guarantees, the stores read after a SIGTERM stop${netns.isAvailable ? '' : ` (skipped: ${netns.reason})`}`,
    async () => {
      const { lab, nodes } = await startNetnsCluster(3, { config: CONFIG });
      await partitionAndHeal({
        nodes,
        isolateN3: () => lab.isolate(2),
        healN3: () => lab.rejoin(2),
        stopAll: async () => {
          await Promise.all(nodes.map((n) => n.stop()));
        },
        dataDirOf: (node) => (node as NodeProcess).dataDir,
      });
    },
  );
});
