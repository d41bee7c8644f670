import { WriteQuorum } from '@meshchat/node';
import { describe, expect, it } from 'vitest';
import { waitForFullMesh } from '../../../test/harness/index.js';
import { FAST_HEARTBEAT } from './cluster-helpers.js';
import { framesOf, openRaw, type RawConnection, rawJoin, startNode, waitFor, waitForFrameWhere } from './helpers.js';
import { HeldCommitStore } from './test-stores.js';

function quorum(ackReplicas: number, peers: string[]) {
  const released: number[] = [];
  const q = new WriteQuorum({ ackReplicas, reachablePeers: () => peers });
  const wait = (seq: number) => void q.whenReplicated('general', seq).then(() => released.push(seq));
  return { q, released, wait, peers };
}

// Lets the promise callbacks of the quorum run.
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('WriteQuorum', () => {
  it('needs ackReplicas - 1 peers to hold a seq, counting cumulative reports', async () => {
    const { q, released, wait } = quorum(3, ['b', 'c', 'd']);
    wait(1);
    wait(2);
    q.onHeld('b', 'general', 2);
    await settle();
    expect(released).toEqual([]);
    q.onHeld('c', 'general', 1);
    await settle();
    expect(released).toEqual([1]);
    q.onHeld('d', 'general', 5);
    await settle();
    expect(released).toEqual([1, 2]);
    expect(q.waitingCount).toBe(0);
  });

  it('keeps rooms apart and ignores a report older than what the peer already holds', async () => {
    const { q, released, wait } = quorum(2, ['b']);
    wait(3);
    q.onHeld('b', 'other', 3);
    q.onHeld('b', 'general', 2);
    await settle();
    expect(released).toEqual([]);
    q.onHeld('b', 'general', 3);
    q.onHeld('b', 'general', 1);
    await settle();
    expect(released).toEqual([3]);
  });

  it('needs no peer when none is reachable, or with ackReplicas 1', async () => {
    expect(
      await Promise.race([
        quorum(2, [])
          .q.whenReplicated('general', 1)
          .then(() => 'released'),
        settle(),
      ]),
    ).toBe('released');
    expect(
      await Promise.race([
        quorum(1, ['b'])
          .q.whenReplicated('general', 1)
          .then(() => 'released'),
        settle(),
      ]),
    ).toBe('released');
  });

  it('re-judges waiters when a peer goes away: fewer peers need fewer copies, and its reports no longer count', async () => {
    const { q, released, wait, peers } = quorum(3, ['b', 'c']);
    q.onHeld('b', 'general', 1);
    wait(1);
    await settle();
    expect(released).toEqual([]);
    peers.splice(peers.indexOf('c'), 1);
    q.onLinkDown('c');
    await settle();
    expect(released).toEqual([1]);

    // b comes back wiped: what it held before no longer counts.
    peers.push('c');
    q.onLinkDown('b');
    wait(1);
    await settle();
    expect(released).toEqual([1]);
  });
});

describe('write quorum in a cluster (ackReplicas)', () => {
  async function sendHeld(alice: RawConnection, held: HeldCommitStore, clientMsgId: string): Promise<void> {
    alice.sendFrame({ type: 'send', room: 'general', text: clientMsgId, clientMsgId });
    await waitFor(() => held.heldCount === 1, `${clientMsgId} to reach the peer that holds its commits`);
    // Anything the node would do with the send is done once a ping sent after it is answered.
    alice.sendFrame({ type: 'ping', nonce: held.heldCount });
    await waitForFrameWhere(alice, 'pong', () => true, 'a pong after the send');
  }

  const ackFor = (alice: RawConnection, clientMsgId: string) =>
    waitForFrameWhere(alice, 'ack', (a) => a.clientMsgId === clientMsgId, `the ack of ${clientMsgId}`);

  async function twoNodes(ackReplicas: number) {
    const held = new HeldCommitStore();
    const n1 = await startNode({ ackReplicas, heartbeat: FAST_HEARTBEAT });
    const n2 = await startNode({ ackReplicas, heartbeat: FAST_HEARTBEAT, seeds: [n1.peerAddress] }, { store: held });
    await waitForFullMesh([n1, n2]);
    const alice = await openRaw(n1, 'alice');
    await rawJoin(alice, 'general');
    return { n1, n2, held, alice };
  }

  it('acks only once the peer has committed the message too', async () => {
    const { held, alice } = await twoNodes(2);
    await sendHeld(alice, held, 'm1');
    expect(framesOf(alice, 'ack')).toEqual([]);
    held.commitAll();
    const ack = await ackFor(alice, 'm1');
    expect(ack.id).toMatchObject({ room: 'general', seq: 1 });
  });

  it('acks a message whose only replica dies before committing it, once the link is gone', async () => {
    const { n2, held, alice } = await twoNodes(2);
    await sendHeld(alice, held, 'm1');
    expect(framesOf(alice, 'ack')).toEqual([]);
    await n2.stop();
    await ackFor(alice, 'm1');
  });

  it('acks on the local commit alone with ackReplicas 1', async () => {
    const { held, alice } = await twoNodes(1);
    await sendHeld(alice, held, 'm1');
    await ackFor(alice, 'm1');
    expect(held.heldCount).toBe(1);
    held.commitAll();
  });

  it('with two peers and ackReplicas 2, one committed copy elsewhere is enough', async () => {
    const held = new HeldCommitStore();
    const n1 = await startNode({ heartbeat: FAST_HEARTBEAT });
    const n2 = await startNode({ heartbeat: FAST_HEARTBEAT, seeds: [n1.peerAddress] }, { store: held });
    const n3 = await startNode({ heartbeat: FAST_HEARTBEAT, seeds: [n1.peerAddress] });
    await waitForFullMesh([n1, n2, n3]);
    const alice = await openRaw(n1, 'alice');
    await rawJoin(alice, 'general');
    alice.sendFrame({ type: 'send', room: 'general', text: 'm1', clientMsgId: 'm1' });
    await ackFor(alice, 'm1');
    expect(held.heldCount).toBe(1);
    held.commitAll();
  });
});
