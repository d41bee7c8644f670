import { createHash } from 'node:crypto';
import type { MemberView } from '../cluster/membership.js';
import type { MessageStore, VersionVector } from '../store/message-store.js';

export interface ClusterView {
  nodeId: string;
  cluster: string;
  members: (MemberView & { clients: number })[];
  rooms: Record<string, { vector: VersionVector; digest: string; messages: number }>;
  replication: { heldBack: number; awaitingReplicas: number; antiEntropyBacklog: number; antiEntropySent: number };
}

/**
 * A short digest of a room's version vector: equal digests on two nodes mean they hold
 * the same messages of that room, which makes convergence easy to eyeball.
 */
export function vectorDigest(vector: VersionVector): string {
  const canonical = Object.entries(vector)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([origin, seq]) => `${origin}=${seq}`)
    .join(',');
  return createHash('sha256').update(canonical).digest('hex').slice(0, 12);
}

export function roomVectors(store: MessageStore): ClusterView['rooms'] {
  const rooms: ClusterView['rooms'] = {};
  for (const room of store.rooms().sort()) {
    const vector = store.versionVector(room);
    const messages = Object.values(vector).reduce((sum, seq) => sum + seq, 0);
    rooms[room] = { vector, digest: vectorDigest(vector), messages };
  }
  return rooms;
}
