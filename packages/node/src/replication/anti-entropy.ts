import {
  type ChatMessage,
  estimateMessageBytes,
  type PeerFrame,
  type PeerFrameOf,
  type PresenceVersion,
} from '@meshchat/protocol';
import type { Logger } from 'pino';
import { SYNC_BATCH_BYTES, SYNC_BATCH_MESSAGES, SYNC_HIGH_WATER_BYTES } from '../constants.js';
import { type MessageStore, streamKeyOf, type VersionVector } from '../store/message-store.js';
import { PushPlan, type PushPlanDeps } from './push-plan.js';

/** Presence rides on anti-entropy rounds too, so it converges through third nodes. */
export interface PresenceSync {
  /** The presence versions we hold, per owner node, ours included. */
  versions(): Record<string, PresenceVersion>;
  /** Sends the peer what we hold newer than it; says whether it holds newer than us. */
  reconcile(nodeId: string, theirs: Record<string, PresenceVersion>): boolean;
}

export interface AntiEntropyDeps {
  store: MessageStore;
  presence: PresenceSync;
  send: (nodeId: string, frame: PeerFrame) => boolean;
  isLinked: (nodeId: string) => boolean;
  outboundBytes: (nodeId: string) => number;
  /** Runs `task` after `ms` (0: after pending I/O); injected so tests can drive time. */
  schedule: (task: () => void, ms: number) => void;
  /** Who pushes what, so a message is sent to a peer once (PushPlan). */
  push: PushPlanDeps;
  log: Logger;
}

interface Floor {
  room: string;
  origin: string;
  seq: number;
}

interface Range {
  room: string;
  origin: string;
  fromSeq: number;
  toSeq: number;
}

// Resending one range from the start is cheap; the receiver drops what it has.
const BACKOFF_WHEN_FULL_MS = 10;

/**
 * Anti-entropy: two nodes exchange per-room version vectors (origin -> highest
 * contiguous seq) and each sends the other the ranges it lacks, in batches, pausing
 * while the link has a backlog so catch-up does not starve live relay traffic.
 * Because every node pushes everything it holds, a node reachable only through a
 * third one still converges.
 */
export class AntiEntropy {
  private readonly queues = new Map<string, Range[]>();
  private readonly pumping = new Set<string>();
  private readonly plan: PushPlan;
  private sentMessages = 0;

  constructor(private readonly deps: AntiEntropyDeps) {
    this.plan = new PushPlan(deps.push);
  }

  /** Messages queued for peers and not yet sent. */
  get backlog(): number {
    let count = 0;
    for (const ranges of this.queues.values()) for (const r of ranges) count += r.toSeq - r.fromSeq + 1;
    return count;
  }

  get sent(): number {
    return this.sentMessages;
  }

  /** Opens a round with a peer: tell it what we hold. */
  start(nodeId: string): void {
    this.deps.send(nodeId, this.vectorsFrame(false));
  }

  /**
   * A new link to the peer, a replacement too: what was sent on an earlier link may
   * have been lost with it (a link that loses a tie-break is closed with batches in
   * flight), so nothing counts as pushed any more; then a round.
   */
  linkUp(nodeId: string): void {
    this.plan.forget(nodeId);
    this.start(nodeId);
  }

  onVectors(nodeId: string, frame: PeerFrameOf<'sync_vectors'>): void {
    const mine = this.vectors();
    const ranges: Range[] = [];
    let theyHaveMore = false;
    for (const [room, vector] of Object.entries(mine)) {
      const theirs = frame.rooms[room] ?? {};
      for (const [origin, seq] of Object.entries(vector)) {
        const have = theirs[origin] ?? 0;
        if (seq <= have) continue;
        const fromSeq = this.plan.plan(nodeId, room, origin, have + 1, seq);
        if (fromSeq !== undefined) ranges.push({ room, origin, fromSeq, toSeq: seq });
      }
    }
    for (const [room, theirs] of Object.entries(frame.rooms)) {
      const vector = mine[room] ?? {};
      if (Object.entries(theirs).some(([origin, seq]) => seq > (vector[origin] ?? 0))) theyHaveMore = true;
    }
    if (this.deps.presence.reconcile(nodeId, frame.presence)) theyHaveMore = true;
    // They opened the round and hold something we lack: answer so they push it too.
    if (theyHaveMore && !frame.isReply) this.deps.send(nodeId, this.vectorsFrame(true, mine));
    if (ranges.length === 0) return;
    this.deps.log.debug({ peer: nodeId, ranges: ranges.length }, 'anti-entropy: sending missing ranges');
    this.queues.set(nodeId, mergeRanges(this.queues.get(nodeId) ?? [], ranges));
    this.pump(nodeId);
  }

  /** The link went away: what was queued for it is recomputed on the next round. */
  forget(nodeId: string): void {
    this.queues.delete(nodeId);
    this.plan.forget(nodeId);
  }

  private vectorsFrame(isReply: boolean, rooms = this.vectors()): PeerFrame {
    return { type: 'sync_vectors', rooms, presence: this.deps.presence.versions(), isReply };
  }

  private vectors(): Record<string, VersionVector> {
    const rooms: Record<string, VersionVector> = {};
    for (const room of this.deps.store.rooms()) rooms[room] = this.deps.store.versionVector(room);
    return rooms;
  }

  private pump(nodeId: string): void {
    if (this.pumping.has(nodeId)) return;
    this.pumping.add(nodeId);
    const step = () => {
      const queue = this.queues.get(nodeId);
      if (!queue || queue.length === 0 || !this.deps.isLinked(nodeId)) {
        this.queues.delete(nodeId);
        this.pumping.delete(nodeId);
        return;
      }
      if (this.deps.outboundBytes(nodeId) > SYNC_HIGH_WATER_BYTES) {
        this.deps.schedule(step, BACKOFF_WHEN_FULL_MS);
        return;
      }
      this.deps.send(nodeId, { type: 'sync_batch', ...this.takeBatch(queue) });
      this.deps.schedule(step, 0);
    };
    step();
  }

  private takeBatch(queue: Range[]): { floors: Floor[]; messages: ChatMessage[] } {
    const batch: ChatMessage[] = [];
    const floors: Floor[] = [];
    let bytes = 0;
    while (queue.length > 0 && batch.length < SYNC_BATCH_MESSAGES && bytes < SYNC_BATCH_BYTES) {
      const range = queue[0] as Range;
      // What retention removed here cannot be sent: tell the peer to skip it.
      const floor = this.deps.store.floor(range.room, range.origin);
      if (range.fromSeq <= floor) {
        floors.push({ room: range.room, origin: range.origin, seq: Math.min(floor, range.toSeq) });
        range.fromSeq = floor + 1;
        if (range.fromSeq > range.toSeq) {
          queue.shift();
          continue;
        }
      }
      const limit = Math.min(SYNC_BATCH_MESSAGES - batch.length, range.toSeq - range.fromSeq + 1);
      const messages = this.deps.store.range(range.room, range.origin, range.fromSeq, limit);
      for (const message of messages) {
        batch.push(message);
        bytes += estimateMessageBytes(message);
        range.fromSeq = message.seq + 1;
        if (bytes >= SYNC_BATCH_BYTES) break;
      }
      // A range the store no longer holds (trimmed meanwhile) is skipped.
      if (range.fromSeq > range.toSeq || messages.length === 0) queue.shift();
    }
    this.sentMessages += batch.length;
    return { floors, messages: batch };
  }
}

// A later round for a stream still queued extends it: what is queued was not sent yet.
function mergeRanges(queued: Range[], fresh: Range[]): Range[] {
  const key = (r: Range) => streamKeyOf(r.room, r.origin);
  const byStream = new Map(queued.map((r) => [key(r), r]));
  for (const range of fresh) {
    const earlier = byStream.get(key(range));
    byStream.set(
      key(range),
      earlier
        ? { ...range, fromSeq: Math.min(earlier.fromSeq, range.fromSeq), toSeq: Math.max(earlier.toSeq, range.toSeq) }
        : range,
    );
  }
  return [...byStream.values()];
}
