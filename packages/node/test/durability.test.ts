import type { MessageId } from '@meshchat/protocol';
import { describe, expect, it } from 'vitest';
import {
  type NodeProcess,
  startProcessCluster,
  waitFor,
  waitForFullMesh,
  waitForMemberState,
  waitForViews,
} from '../../../test/harness/index.js';
import { CLUSTER_CONFIG, idKey, joinedClient, storedIds, storedMessages, vectorsAgree } from './cluster-helpers.js';

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
