import { describe, expect, it } from 'vitest';
import { connectClient, startNode, type TestNode, waitFor, waitForFullMesh } from '../../../test/harness/index.js';

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
