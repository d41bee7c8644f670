import { setTimeout as sleep } from 'node:timers/promises';
import { type BenchNode, type ClusterView, fetchClusterView } from './cluster.js';

// Whether nodes hold the same history, read from the room vectors of GET /cluster
// (packages/node/src/http/cluster-view.ts): equal digests of every room's vector mean
// the same set of message ids.

const POLL_MS = 50;

/** Messages a node holds over all rooms (the sum of its vectors: trimmed ones count too). */
export function heldMessages(view: ClusterView): number {
  return Object.values(view.rooms).reduce((sum, room) => sum + room.messages, 0);
}

export function isSameHistory(a: ClusterView, b: ClusterView): boolean {
  const rooms = Object.keys(a.rooms);
  return (
    rooms.length === Object.keys(b.rooms).length &&
    rooms.every((room) => a.rooms[room]?.digest === b.rooms[room]?.digest)
  );
}

/** Polls the nodes until all hold the same history; resolves with one of their views. */
export async function waitUntilConverged(nodes: BenchNode[], timeoutMs: number): Promise<ClusterView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const views = await Promise.all(nodes.map((n) => fetchClusterView(n.httpAddress)));
    const first = views[0] as ClusterView;
    if (views.every((view) => isSameHistory(view, first))) return first;
    if (Date.now() > deadline) {
      const held = nodes.map((n, i) => `${n.nodeId} ${heldMessages(views[i] as ClusterView)}`).join(', ');
      throw new Error(`the nodes did not converge within ${timeoutMs} ms (messages held: ${held})`);
    }
    await sleep(POLL_MS);
  }
}
