// A room message from a peer is shown to a node's clients before that node commits it:
// its origin committed it before relaying it. A session that joins meanwhile gets it
// right after its join reply (the reply's history and cursor cannot hold it yet), and
// nobody gets it twice when the commit completes.
import { describe, expect, it } from 'vitest';
import { waitForFullMesh } from '../../../test/harness/index.js';
import { FAST_HEARTBEAT } from './cluster-helpers.js';
import { framesOf, openRaw, rawJoin, startNode, waitFor, waitForFrameWhere } from './helpers.js';
import { HeldCommitStore } from './test-stores.js';

describe('room messages from peers, shown before the local commit', () => {
  it('reach members at once, and sessions that join before the commit right after their reply; each once', async () => {
    const held = new HeldCommitStore();
    const n1 = await startNode({ heartbeat: FAST_HEARTBEAT });
    const n2 = await startNode({ heartbeat: FAST_HEARTBEAT, seeds: [n1.peerAddress] }, { store: held });
    await waitForFullMesh([n1, n2]);
    const alice = await openRaw(n1, 'alice');
    await rawJoin(alice, 'lobby');
    const bob = await openRaw(n2, 'bob');
    await rawJoin(bob, 'lobby');

    alice.sendFrame({ type: 'send', room: 'lobby', text: 'before the commit', clientMsgId: 'early-1' });
    const shown = await waitForFrameWhere(bob, 'message', (m) => m.clientMsgId === 'early-1', 'bob shown it');
    expect(held.heldCount).toBe(1);

    // Joins while n2 has not committed it: not in the history, not in the cursor.
    const carol = await openRaw(n2, 'carol');
    const joined = await rawJoin(carol, 'lobby');
    expect(joined.history).toEqual([]);
    expect(joined.cursor).toEqual({});
    await waitForFrameWhere(carol, 'message', (m) => m.clientMsgId === 'early-1', 'carol shown it after joining');
    expect(carol.frames.map((f) => f.type).filter((t) => t === 'joined' || t === 'message')).toEqual([
      'joined',
      'message',
    ]);
    // A resume whose cursor says it was shown already does not get it again.
    const dave = await openRaw(n2, 'dave');
    await rawJoin(dave, 'lobby', { [shown.origin]: shown.seq });

    held.commitAll();
    // Committed on n2 and acked to alice (ackReplicas 2 waits for n2's commit).
    await waitForFrameWhere(alice, 'ack', (a) => a.clientMsgId === 'early-1', "alice's ack");
    // Anything n2 would send them about it is sent once a ping after the commit is answered.
    for (const [raw, nonce] of [
      [bob, 1],
      [carol, 2],
      [dave, 3],
    ] as const) {
      raw.sendFrame({ type: 'ping', nonce });
      await waitForFrameWhere(raw, 'pong', (p) => p.nonce === nonce, 'a pong after the commit');
    }
    expect(framesOf(bob, 'message').map((m) => m.clientMsgId)).toEqual(['early-1']);
    expect(framesOf(carol, 'message').map((m) => m.clientMsgId)).toEqual(['early-1']);
    expect(framesOf(dave, 'message')).toEqual([]);
    // Once committed it is history like any other message.
    const erin = await openRaw(n2, 'erin');
    expect((await rawJoin(erin, 'lobby')).history.map((m) => m.clientMsgId)).toEqual(['early-1']);
  });

  it('does not apply to direct messages: the recipient gets one only once its node has committed it', async () => {
    const held = new HeldCommitStore();
    const n1 = await startNode({ heartbeat: FAST_HEARTBEAT });
    const n2 = await startNode({ heartbeat: FAST_HEARTBEAT, seeds: [n1.peerAddress] }, { store: held });
    await waitForFullMesh([n1, n2]);
    const bob = await openRaw(n2, 'bob');
    const alice = await openRaw(n1, 'alice');
    alice.sendFrame({ type: 'dm', to: 'bob', text: 'after the commit', clientMsgId: 'dm-1' });
    await waitFor(() => held.heldCount === 1, "the DM to reach the store of bob's node");
    // Anything n2 would send bob about it is sent once a ping after its arrival is answered.
    bob.sendFrame({ type: 'ping', nonce: 1 });
    await waitForFrameWhere(bob, 'pong', (p) => p.nonce === 1, 'a pong after the DM arrived');
    expect(framesOf(bob, 'direct')).toEqual([]);
    held.commitAll();
    await waitForFrameWhere(bob, 'direct', (d) => d.clientMsgId === 'dm-1', 'bob to get the DM');
    await waitForFrameWhere(alice, 'ack', (a) => a.clientMsgId === 'dm-1', "alice's ack");
    expect(framesOf(bob, 'direct').map((d) => d.text)).toEqual(['after the commit']);
  });
});
