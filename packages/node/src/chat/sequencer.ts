import { type ChatMessage, HybridLogicalClock, type Sender } from '@meshchat/protocol';
import type { MessageStore } from '../store/message-store.js';

/**
 * Gives messages this node accepts their identity: (room, origin, seq) with origin
 * this node's origin id (its nodeId, see OriginRecovery) and seq counting its messages
 * in the room from 1 without gaps, and an hlc for a stable global order. Counters start
 * from what the store already holds, so a restarted node continues its sequences
 * instead of reusing ids.
 */
export class Sequencer {
  private readonly lastSeq = new Map<string, number>();
  readonly clock: HybridLogicalClock;

  constructor(
    private readonly origin: () => string,
    private readonly store: MessageStore,
    private readonly now: () => number,
  ) {
    this.clock = new HybridLogicalClock(now);
  }

  /**
   * Forgets the room's counter after a failed commit, so the next message takes the
   * seq after the last one actually stored: sequences stay without gaps.
   */
  resync(room: string): void {
    this.lastSeq.delete(room);
  }

  next(room: string, from: Sender, text: string, clientMsgId: string): ChatMessage {
    // The store may hold more than we issued since start: our own messages brought
    // back by anti-entropy after a restart that lost them.
    const seq = Math.max(this.lastSeq.get(room) ?? 0, this.store.highestSeq(room, this.origin())) + 1;
    this.lastSeq.set(room, seq);
    return {
      room,
      origin: this.origin(),
      seq,
      hlc: this.clock.tick(),
      from,
      text,
      clientMsgId,
      sentAt: this.now(),
    };
  }
}
