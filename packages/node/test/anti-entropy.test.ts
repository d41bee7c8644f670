import { MemoryStore } from '@meshchat/node';
import type { ChatMessage, PeerFrame } from '@meshchat/protocol';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { AntiEntropy } from '../src/replication/anti-entropy.js';

const message = (seq: number): ChatMessage => ({
  room: 'general',
  origin: 'node-a',
  seq,
  hlc: seq,
  from: { clientId: 'alice', nick: 'alice' },
  text: `#${seq}`,
  clientMsgId: `m-${seq}`,
  sentAt: seq,
});

/** node-a's anti-entropy towards node-c, with the link, the clock and the timers in the test's hands. */
async function antiEntropy() {
  const store = new MemoryStore();
  await store.appendBatch(Array.from({ length: 1200 }, (_, i) => ({ message: message(i + 1) })));
  const sent: PeerFrame[] = [];
  const link = { isUp: true };
  const tasks: (() => void)[] = [];
  const sync = new AntiEntropy({
    store,
    presence: { versions: () => ({}), reconcile: () => false },
    send: (_nodeId, frame) => {
      if (link.isUp) sent.push(frame);
      return link.isUp;
    },
    isLinked: () => link.isUp,
    outboundBytes: () => 0,
    schedule: (task) => tasks.push(task),
    push: { now: () => 0, retryAfterMs: 4000, linkedOwnerOf: () => undefined },
    log: pino({ level: 'silent' }),
  });
  const runTasks = () => {
    while (tasks.length > 0) (tasks.shift() as () => void)();
  };
  const batchedSeqs = () =>
    sent.flatMap((f) => (f.type === 'sync_batch' ? f.messages.map((m) => m.seq) : [])).sort((a, b) => a - b);
  const peerHoldsNothing = { type: 'sync_vectors' as const, rooms: {}, presence: {}, isReply: true };
  return { sync, sent, link, runTasks, batchedSeqs, peerHoldsNothing };
}

describe('AntiEntropy', () => {
  it('sends what a peer lacks in batches, once per retry window', async () => {
    const { sync, runTasks, batchedSeqs, peerHoldsNothing } = await antiEntropy();
    sync.onVectors('node-c', peerHoldsNothing);
    runTasks();
    expect(batchedSeqs()).toEqual(Array.from({ length: 1200 }, (_, i) => i + 1));
    // Another round before the peer has stored them: in flight, not sent again.
    sync.onVectors('node-c', peerHoldsNothing);
    runTasks();
    expect(batchedSeqs()).toHaveLength(1200);
  });

  it('sends again at once over a new link what was queued or in flight on the one it replaced', async () => {
    const { sync, sent, link, runTasks, batchedSeqs, peerHoldsNothing } = await antiEntropy();
    sync.onVectors('node-c', peerHoldsNothing);
    // The first batch went out; then the link lost a tie-break and closed with it in
    // flight, without a link-down (the replacement is on its way).
    expect(batchedSeqs()).toHaveLength(500);
    link.isUp = false;
    runTasks();
    link.isUp = true;
    sent.length = 0;
    sync.linkUp('node-c');
    expect(sent.map((f) => f.type)).toEqual(['sync_vectors']);
    sync.onVectors('node-c', peerHoldsNothing);
    runTasks();
    expect(batchedSeqs()).toEqual(Array.from({ length: 1200 }, (_, i) => i + 1));
  });
});
