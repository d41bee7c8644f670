import type { ChatMessage, MessageId, PeerFrameOf } from '@meshchat/protocol';
import type { Logger } from 'pino';
import { HOLDBACK_LIMIT } from '../constants.js';
import type { MessageStore } from '../store/message-store.js';

export interface ReplicatorDeps {
  nodeId: string;
  store: MessageStore;
  /** Hands a newly stored message from elsewhere to local clients. */
  /** `encoded`: the message frame as a peer sent it, when there is one. */
  deliver: (message: ChatMessage, encoded: Uint8Array | undefined) => void;
  /** A message from `from` is committed here (an alias too): tell the origin (StoredAcks). */
  onStored: (from: string, message: ChatMessage) => void;
  /** Asks a peer for what we miss (anti-entropy), after a gap was seen on its link. */
  requestSync: (nodeId: string) => void;
  log: Logger;
}

interface Held {
  from: string;
  message: ChatMessage;
  encoded: Uint8Array | undefined;
}

const streamKey = (room: string, origin: string) => `${room}\u0000${origin}`;

/**
 * Takes messages from other nodes, live or from anti-entropy, and stores and delivers
 * each exactly once, per (room, origin) in seq order: a message whose predecessor has
 * not arrived is held back until it does. A second copy of a client's message (same
 * sender and clientMsgId under another id, after a failover resend) is stored as an
 * alias: it counts in the version vector, so vectors still agree, but is not delivered.
 */
export class Replicator {
  // Next seq to accept per (room, origin): stored or being stored already.
  private readonly expected = new Map<string, number>();
  private readonly holdback = new Map<string, Map<number, Held>>();

  constructor(private readonly deps: ReplicatorDeps) {}

  /** Messages waiting for a predecessor, for /cluster and metrics. */
  get heldBack(): number {
    let count = 0;
    for (const held of this.holdback.values()) count += held.size;
    return count;
  }

  /** `encoded`: the message frame as received, passed on to local clients as is. */
  receive(from: string, message: ChatMessage, encoded?: Uint8Array): void {
    const key = streamKey(message.room, message.origin);
    // Messages of our own origin come back only after a restart that lost them; the
    // store also advances on our own commits, which `expected` does not see.
    const stored = this.deps.store.highestSeq(message.room, message.origin) + 1;
    const next = Math.max(this.expected.get(key) ?? 0, stored);
    if (message.seq < next) return;
    if (message.seq > next) {
      this.holdBack(key, { from, message, encoded });
      this.deps.requestSync(from);
      return;
    }
    this.accept(from, key, message, encoded);
    this.drain(key);
  }

  // Accepts held messages that now follow what is stored.
  private drain(key: string): void {
    const held = this.holdback.get(key);
    while (held && held.size > 0) {
      const following = held.get(this.expected.get(key) as number);
      if (!following) break;
      held.delete(following.message.seq);
      this.accept(following.from, key, following.message, following.encoded);
    }
    if (held?.size === 0) this.holdback.delete(key);
  }

  receiveBatch(from: string, batch: PeerFrameOf<'sync_batch'>): void {
    for (const floor of batch.floors) this.skip(floor.room, floor.origin, floor.seq);
    for (const message of batch.messages) this.receive(from, message);
  }

  // A peer's retention removed (room, origin) up to `seq`: those will never come, so
  // stop waiting for them and release what was held behind them.
  private skip(room: string, origin: string, seq: number): void {
    const key = streamKey(room, origin);
    const next = Math.max(this.expected.get(key) ?? 0, this.deps.store.highestSeq(room, origin) + 1);
    if (seq < next) return;
    this.expected.set(key, seq + 1);
    void this.deps.store.skipTo(room, origin, seq).catch((err: unknown) => {
      this.deps.log.error({ err, room, origin, seq }, 'recording a trimmed range failed');
    });
    const held = this.holdback.get(key);
    if (!held) return;
    for (const heldSeq of held.keys()) if (heldSeq <= seq) held.delete(heldSeq);
    this.drain(key);
  }

  private accept(from: string, key: string, message: ChatMessage, encoded: Uint8Array | undefined): void {
    this.expected.set(key, message.seq + 1);
    const known = this.deps.store.findByClientMsgId(message.from.clientId, message.clientMsgId);
    const isAlias = known !== undefined && !isSameId(known, message);
    this.deps.store.append(message, encoded ? { isAlias, encoded } : { isAlias }).then(
      () => {
        this.deps.onStored(from, message);
        if (!isAlias) this.deps.deliver(message, encoded);
      },
      (err: unknown) => {
        // Not stored: forget it so anti-entropy brings it again.
        this.expected.set(key, Math.min(this.expected.get(key) ?? message.seq, message.seq));
        this.deps.log.error(
          { err, room: message.room, origin: message.origin, seq: message.seq },
          'storing a replicated message failed',
        );
      },
    );
  }

  private holdBack(key: string, held: Held): void {
    let stream = this.holdback.get(key);
    if (!stream) {
      stream = new Map();
      this.holdback.set(key, stream);
    }
    if (stream.size < HOLDBACK_LIMIT) stream.set(held.message.seq, held);
  }
}

function isSameId(id: MessageId, message: ChatMessage): boolean {
  return id.room === message.room && id.origin === message.origin && id.seq === message.seq;
}
