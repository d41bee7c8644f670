import { randomBytes } from 'node:crypto';
import type { ChatClient } from '@meshchat/client';
import type { ChatMessage, MessageId } from '@meshchat/protocol';
import { describe, expect, it } from 'vitest';
import {
  clientAddressOf,
  connectClient,
  NodeProcess,
  readStoreContents,
  startProcessCluster,
  type TestClient,
  waitFor,
  waitForFullMesh,
  waitForMemberState,
  waitForViews,
} from '../../../test/harness/index.js';
import {
  CLUSTER_CONFIG,
  idKey,
  joinedClient,
  type Sent,
  sendBurst,
  storedIds,
  storedMessages,
  Traffic,
  vectorsAgree,
} from './cluster-helpers.js';

const ROOM = 'durable';
// A loaded client must not be throttled by the per-client rate limit.
const CONFIG = { ...CLUSTER_CONFIG, limits: { ratePerSec: 100_000, rateBurst: 100_000 } };

describe('durable history (lmdb) across kill -9', () => {
  it('a node killed -9 under sustained load restarts with every acked message, its own seqs contiguous, and reuses no id', async () => {
    const nodes = await startProcessCluster(3, { config: CONFIG });
    const [n1] = nodes as [NodeProcess, NodeProcess, NodeProcess];
    await waitForFullMesh(nodes);
    const sender = await joinedClient(n1, 'loader', ROOM);

    // Keep 20 sends in flight until the node dies; remember every acked id.
    const acked: MessageId[] = [];
    let isKilled = false;
    const pump = async (lane: number) => {
      for (let i = 0; !isKilled; i++) {
        try {
          acked.push((await sender.client.send(ROOM, `lane ${lane} #${i}`)).id);
        } catch {
          return;
        }
      }
    };
    const lanes = Array.from({ length: 20 }, (_, lane) => pump(lane));
    await waitFor(() => acked.length >= 500, '500 acked messages before the kill');
    await n1.kill();
    isKilled = true;
    await sender.client.close();
    await Promise.all(lanes);
    const ackedOnN1 = acked.filter((id) => id.origin === n1.nodeId);
    expect(ackedOnN1.length).toBeGreaterThanOrEqual(500);

    await n1.restart();
    await waitForFullMesh(nodes);
    const stored = await storedMessages(n1, ROOM);
    const ownSeqs = stored.filter((m) => m.origin === n1.nodeId).map((m) => m.seq);
    // Contiguous from 1: no torn record, no gap.
    expect(ownSeqs).toEqual(Array.from({ length: ownSeqs.length }, (_, i) => i + 1));
    const storedKeys = new Set(stored.map(idKey));
    expect(ackedOnN1.filter((id) => !storedKeys.has(idKey(id)))).toEqual([]);

    // It continues its sequence: the next message gets the next seq, not a reused one.
    const after = await joinedClient(n1, 'after', ROOM);
    const { id } = await after.client.send(ROOM, 'after restart');
    expect(id).toEqual({ room: ROOM, origin: n1.nodeId, seq: ownSeqs.length + 1 });
  });

  it('a node down while 10,000 messages are sent elsewhere holds all 10,000 after it restarts (ids compared)', async () => {
    const nodes = await startProcessCluster(3, { config: CONFIG });
    const [n1, , n3] = nodes as [NodeProcess, NodeProcess, NodeProcess];
    await waitForFullMesh(nodes);
    await n3.kill();
    await waitForMemberState([n1], n3.nodeId, ['dead']);

    const sender = await joinedClient(n1, 'bulk', ROOM);
    for (let batch = 0; batch < 20; batch++) {
      await Promise.all(Array.from({ length: 500 }, (_, i) => sender.client.send(ROOM, `m${batch * 500 + i}`)));
    }
    const expected = await storedIds(n1, ROOM);
    expect(expected).toHaveLength(10_000);

    await n3.restart();
    await waitForFullMesh(nodes);
    await waitForViews(nodes, (view) => vectorsAgree(view, ROOM), 'equal room vectors on every node', 60_000);
    expect(await storedIds(n3, ROOM)).toEqual(expected);
  });
});

// Messages per sender (one sender on each old node) per room: 3,001 in all. No
// retention is configured, so nothing is trimmed and every message must arrive.
const HISTORY = { lobby: 600, ops: 300, random: 100, quiet: 1 } as const;
const HISTORY_ROOMS = Object.keys(HISTORY) as (keyof typeof HISTORY)[];
const HISTORY_ON_JOIN = 100;

/** Sends `count` messages in pipelined bursts of 200 and returns them once acked. */
async function sendHistory(client: ChatClient, room: string, count: number): Promise<Sent[]> {
  const sent: Sent[] = [];
  for (let from = 0; from < count; from += 200) {
    sent.push(...(await sendBurst(client, room, Math.min(200, count - from), `${room} from ${from}`)));
  }
  return sent;
}

/** A recording client on `node` that has joined `rooms`. */
async function clientIn(node: NodeProcess, nick: string, rooms: readonly string[]): Promise<TestClient> {
  const client = await connectClient(clientAddressOf(node), nick);
  for (const room of rooms) await client.client.join(room);
  return client;
}

/** History order: hlc, then origin, then seq. */
function isInHistoryOrder(messages: readonly ChatMessage[]): boolean {
  return messages.every((m, i) => {
    const previous = messages[i - 1];
    if (!previous) return true;
    if (previous.hlc !== m.hlc) return previous.hlc < m.hlc;
    return previous.origin !== m.origin ? previous.origin < m.origin : previous.seq < m.seq;
  });
}

describe('a brand-new node joining an old cluster', () => {
  it('receives the full history of every room (the same ids, read from its LMDB store after a clean stop), and a client joining on it gets the same last messages in the same hlc order as a client on an old node', async () => {
    const clusterSecret = `secret-${randomBytes(12).toString('hex')}`;
    const config = { ...CONFIG, historyOnJoin: HISTORY_ON_JOIN, clusterSecret };
    const old = await startProcessCluster(3, { config });
    const [n1, n2] = old as [NodeProcess, NodeProcess, NodeProcess];
    await waitForFullMesh(old);

    const senders = await Promise.all(old.map((node) => clientIn(node, `old-${node.nodeId}`, HISTORY_ROOMS)));
    const sent = (
      await Promise.all(
        senders.flatMap((sender, i) =>
          HISTORY_ROOMS.filter((room) => room !== 'quiet' || i === 0).map((room) =>
            sendHistory(sender.client, room, HISTORY[room]),
          ),
        ),
      )
    ).flat();
    expect(sent).toHaveLength(3_001);
    for (const room of HISTORY_ROOMS) {
      await waitForViews(old, (views) => vectorsAgree(views, room), `equal vectors of ${room} on the old nodes`);
    }

    // Messages keep flowing while the new node joins: it catches up and goes live at once.
    const traffic = new Traffic(
      senders.map((s) => s.client),
      'lobby',
    );
    await traffic.waitForMore(10, 'before the new node starts');
    // One seed, and not the node every other one was seeded with: it finds the rest by gossip.
    const fresh = await NodeProcess.start({ ...config, clusterSecret, nodeId: 'n4', seeds: [n2.addresses.peers] });
    const nodes = [...old, fresh];
    await waitForFullMesh(nodes);
    await traffic.waitForMore(10, 'after the new node joined the mesh');
    sent.push(...(await traffic.stop()));

    for (const room of HISTORY_ROOMS) {
      await waitForViews(
        nodes,
        (views) => vectorsAgree(views, room),
        `equal vectors of ${room} on all four nodes`,
        60_000,
      );
    }
    const expected = (room: string) =>
      sent
        .filter((s) => s.id.room === room)
        .map((s) => idKey(s.id))
        .sort();
    for (const room of HISTORY_ROOMS) {
      expect(await storedIds(fresh, room), `ids of ${room} served by the new node`).toEqual(expected(room));
    }

    // A client joining on the new node sees what a client joining on an old node sees.
    const onFresh = await clientIn(fresh, 'newcomer', []);
    const onOld = await clientIn(n1, 'regular', []);
    for (const room of HISTORY_ROOMS) {
      const [fromFresh, fromOld] = await Promise.all([onFresh.client.join(room), onOld.client.join(room)]);
      const lastN = (await storedMessages(n1, room)).slice(-HISTORY_ON_JOIN);
      expect(fromFresh.history, `history on join of ${room} on the new node`).toEqual(fromOld.history);
      expect(fromOld.history, `history on join of ${room}: the last ${HISTORY_ON_JOIN}`).toEqual(lastN);
      expect(isInHistoryOrder(fromFresh.history), `history of ${room} in hlc order`).toBe(true);
    }

    // On disk: every node's store holds the same vectors, message ids and history index.
    await Promise.all(nodes.map((node) => node.stop()));
    const contents = await Promise.all(nodes.map((node) => readStoreContents(node.dataDir)));
    for (const room of HISTORY_ROOMS) {
      expect(contents[3]?.[room]?.ids, `ids of ${room} in the new node's store`).toEqual(expected(room));
    }
    for (const [i, node] of nodes.entries()) {
      expect(contents[i], `the store of ${node.nodeId}`).toEqual(contents[0]);
    }
  });
});
