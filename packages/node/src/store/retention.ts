import { packHlc } from '@meshchat/protocol';
import type { Logger } from 'pino';
import type { RetentionConfig } from '../config/schema.js';
import { comparePositions, type HistoryPosition, type MessageStore } from './message-store.js';

export interface RetentionDeps {
  store: MessageStore;
  config: RetentionConfig;
  now: () => number;
  log: Logger;
}

/**
 * Applies each room's retention (at most maxMessages, none older than maxAgeMs). The
 * rule depends only on the messages and the clock, so every node trims the same ones;
 * trimmed messages keep counting in the version vectors, and anti-entropy tells a peer
 * that lacks them to skip them, so vectors keep agreeing.
 */
export class Retention {
  private isSweeping = false;

  constructor(private readonly deps: RetentionDeps) {}

  get isEnabled(): boolean {
    const { maxMessages, maxAgeMs, rooms } = this.deps.config;
    return maxMessages !== undefined || maxAgeMs !== undefined || Object.keys(rooms).length > 0;
  }

  async sweep(): Promise<void> {
    if (this.isSweeping || !this.isEnabled) return;
    this.isSweeping = true;
    try {
      for (const room of this.deps.store.rooms()) {
        const cutoff = this.cutoff(room);
        if (cutoff === undefined) continue;
        const removed = await this.deps.store.trimBefore(room, cutoff);
        if (removed > 0) this.deps.log.info({ room, removed }, 'retention trimmed messages');
      }
    } catch (err) {
      this.deps.log.error({ err }, 'retention sweep failed');
    } finally {
      this.isSweeping = false;
    }
  }

  // The history position before which the room's messages go, or undefined if none.
  private cutoff(room: string): HistoryPosition | undefined {
    const policy = { ...this.deps.config, ...this.deps.config.rooms[room] };
    let cutoff: HistoryPosition | undefined;
    // Sorts before every message of that millisecond.
    if (policy.maxAgeMs !== undefined)
      cutoff = { hlc: packHlc(this.deps.now() - policy.maxAgeMs, 0), origin: '', seq: 0 };
    if (policy.maxMessages !== undefined) {
      const oldestKept = this.deps.store.nthNewest(room, policy.maxMessages);
      if (oldestKept && (!cutoff || comparePositions(oldestKept, cutoff) > 0)) cutoff = oldestKept;
    }
    return cutoff;
  }
}
