import { streamKeyOf } from '../store/message-store.js';

export interface PushPlanDeps {
  now: () => number;
  /**
   * After this long, a range already pushed is pushed again if the peer still lacks
   * it, and a range left to its owner is pushed by us too.
   */
  retryAfterMs: number;
  /** The linked peer that owns `origin` (its own stream), if any. */
  linkedOwnerOf: (origin: string) => string | undefined;
}

interface Mark {
  seq: number;
  at: number;
}

/**
 * Keeps anti-entropy from sending a message twice. Every node pushes what a peer
 * lacks, so a node catching up would get each message once from every other node,
 * and again on each later round while the first copies are still in flight. So:
 * - a stream whose owner (the node that wrote it) is linked is left to that owner; the
 *   others push it only if the peer has made no progress on it for retryAfterMs (the
 *   owner cannot reach it: the third-node path of design.md);
 * - what was pushed to a peer is not pushed to it again for retryAfterMs unless its
 *   link went down meanwhile (then `forget`).
 */
export class PushPlan {
  // peer -> stream -> highest seq queued for the peer, and when.
  private readonly pushed = new Map<string, Map<string, Mark>>();
  // peer -> stream -> the first seq the peer lacked when we left the stream to its owner.
  private readonly leftToOwner = new Map<string, Map<string, Mark>>();

  constructor(private readonly deps: PushPlanDeps) {}

  /**
   * The part of (room, origin) fromSeq..toSeq to push to `peer` now, if any, recorded
   * as pushed.
   */
  plan(peer: string, room: string, origin: string, fromSeq: number, toSeq: number): number | undefined {
    const stream = streamKeyOf(room, origin);
    const now = this.deps.now();
    const isFresh = (mark: Mark | undefined): mark is Mark =>
      mark !== undefined && now - mark.at < this.deps.retryAfterMs;
    const owner = this.deps.linkedOwnerOf(origin);
    if (owner !== undefined && owner !== peer) {
      const left = this.leftToOwner.get(peer)?.get(stream);
      // Still waiting for the owner, or the owner made progress since: leave it.
      if (left?.seq !== fromSeq) {
        this.mark(this.leftToOwner, peer, stream, { seq: fromSeq, at: now });
        return undefined;
      }
      if (isFresh(left)) return undefined;
    }
    const pushed = this.pushed.get(peer)?.get(stream);
    const from = isFresh(pushed) ? Math.max(fromSeq, pushed.seq + 1) : fromSeq;
    if (from > toSeq) return undefined;
    this.mark(this.pushed, peer, stream, { seq: toSeq, at: now });
    return from;
  }

  /** The link to `peer` went down: what it was sent may be lost. */
  forget(peer: string): void {
    this.pushed.delete(peer);
    this.leftToOwner.delete(peer);
  }

  private mark(marks: Map<string, Map<string, Mark>>, peer: string, stream: string, mark: Mark): void {
    let streams = marks.get(peer);
    if (!streams) {
      streams = new Map();
      marks.set(peer, streams);
    }
    streams.set(stream, mark);
  }
}
