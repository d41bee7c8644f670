import { describe, expect, it } from 'vitest';
import { type ClusterView, waitForFullMesh, waitForMemberState, waitForViews } from '../../../test/harness/index.js';
import { FAST_HEARTBEAT } from './cluster-helpers.js';
import { startNode } from './helpers.js';

const HEARTBEAT = { ...FAST_HEARTBEAT, forgetDeadAfterMs: 1500 };
const selfHeartbeat = (view: ClusterView) => view.members.find((m) => m.nodeId === view.nodeId)?.heartbeat ?? 0;

describe('a dead member is forgotten after forgetDeadAfterMs', () => {
  it('drops it from every view, keeps it dropped through later gossip, and takes it back when it returns', async () => {
    const n1 = await startNode({ nodeId: 'f1', heartbeat: HEARTBEAT });
    const n2 = await startNode({ nodeId: 'f2', heartbeat: HEARTBEAT, seeds: [n1.peerAddress] });
    const n3 = await startNode({ nodeId: 'f3', heartbeat: HEARTBEAT, seeds: [n1.peerAddress] });
    await waitForFullMesh([n1, n2, n3]);

    await n3.stop();
    await waitForMemberState([n1, n2], 'f3', ['dead']);
    const forgotten = await waitForViews(
      [n1, n2],
      (views) => views.every((v) => !v.members.some((m) => m.nodeId === 'f3')),
      'f1 and f2 to forget f3',
    );
    // Twenty more heartbeats (two full state exchanges): neither learns it back from the other.
    const since = forgotten.map(selfHeartbeat);
    const later = await waitForViews(
      [n1, n2],
      (views) => views.every((v, i) => selfHeartbeat(v) >= (since[i] as number) + 20),
      'twenty more heartbeats on f1 and f2',
    );
    for (const view of later) expect(view.members.map((m) => m.nodeId)).not.toContain('f3');

    const back = await startNode({ nodeId: 'f3', heartbeat: HEARTBEAT, seeds: [n2.peerAddress] });
    await waitForFullMesh([n1, n2, back]);
  });
});
