import type { ChatMessage, MessageId, PeerFrameOf } from '@meshchat/protocol';
import type { Logger } from 'pino';
import { HOLDBACK_LIMIT } from '../constants.js';
import { type AppendEntry, dedupeKeyOf, type MessageStore, streamKeyOf } from '../store/message-store.js';
import { ShownEarly, type ShownMessage } from './shown-early.js';

export interface ReplicatorDeps {
  nodeId: string;
  store: MessageStore;
  /**
   * Hands a message from elsewhere to local clients, once: a room message as soon as it
   * is in order (ShownEarly), any other once it is committed here. `encoded`: the
   * message frame as a peer sent it, when there is one.
   */
  deliver: (message: ChatMessage, encoded: Uint8Array | undefined) => void;
  /**
   * Whether a room's messages are shown before this node commits them: room messages
   * are; direct messages are not (a resuming inbox replays from the store alone).
   */
  showsBeforeCommit: (room: string) => boolean;
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

/** A message taken for storing, with what to do once it is committed. */
interface Accepted extends AppendEntry {
  from: string;
  key: string;
  isAlias: boolean;
}

/** What one receive takes: appended together, in one commit. */
class Intake {
  readonly accepted: Accepted[] = [];
  // Messages of this intake by (clientId, clientMsgId): the store does not know them
  // yet. Made for the second message taken: a live relay brings one.
  private ids: Map<string, MessageId> | undefined;

  idOf(message: ChatMessage, store: MessageStore): MessageId | undefined {
    if (this.accepted.length > 0) {
      this.ids ??= new Map(this.accepted.filter((a) => !a.isAlias).map((a) => [dedupeKey(a.message), a.message]));
      const taken = this.ids.get(dedupeKey(message));
      if (taken) return taken;
    }
    return store.findByClientMsgId(message.from.clientId, message.clientMsgId);
  }

  take(accepted: Accepted): void {
    this.accepted.push(accepted);
    if (!accepted.isAlias) this.ids?.set(dedupeKey(accepted.message), accepted.message);
  }
}

const dedupeKey = (message: ChatMessage) => dedupeKeyOf(message.from.clientId, message.clientMsgId);

/**
 * Takes messages from other nodes, live or from anti-entropy, and stores and delivers
 * each exactly once, per (room, origin) in seq order: a message whose predecessor has
 * not arrived is held back until it does. A second copy of a client's message (same
 * sender and clientMsgId under another id, after a failover resend) is stored as an
 * alias: it counts in the version vector, so vectors still agree, but is not delivered.
 * What one frame brings (a relayed message and what it releases from hold-back, or an
 * anti-entropy batch) is appended as one batch: one commit, one promise. Room messages
 * are shown to local clients before that commit completes (ShownEarly), direct
 * messages after it.
 */
export class Replicator {
  // Next seq to accept per (room, origin): stored or being stored already.
  private readonly expected = new Map<string, number>();
  private readonly holdback = new Map<string, Map<number, Held>>();
  private readonly shown = new ShownEarly();

  constructor(private readonly deps: ReplicatorDeps) {}

  /** The room's messages shown to local clients and not yet committed here (ShownEarly). */
  shownBeforeCommit(room: string): readonly ShownMessage[] {
    return this.shown.inRoom(room);
  }

  /** Messages waiting for a predecessor, for /cluster and metrics. */
  get heldBack(): number {
    let count = 0;
    for (const held of this.holdback.values()) count += held.size;
    return count;
  }

  /** `encoded`: the message frame as received, passed on to local clients as is. */
  receive(from: string, message: ChatMessage, encoded?: Uint8Array): void {
    const intake = new Intake();
    this.take(intake, from, message, encoded);
    this.commit(intake);
  }

  receiveBatch(from: string, batch: PeerFrameOf<'sync_batch'>): void {
    const intake = new Intake();
    for (const floor of batch.floors) this.skip(intake, floor.room, floor.origin, floor.seq);
    for (const message of batch.messages) this.take(intake, from, message, undefined);
    this.commit(intake);
  }

  private take(intake: Intake, from: string, message: ChatMessage, encoded: Uint8Array | undefined): void {
    const key = streamKeyOf(message.room, message.origin);
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
    this.accept(intake, from, key, message, encoded);
    this.drain(intake, key);
  }

  // Accepts held messages that now follow what is stored.
  private drain(intake: Intake, key: string): void {
    const held = this.holdback.get(key);
    while (held && held.size > 0) {
      const following = held.get(this.expected.get(key) as number);
      if (!following) break;
      held.delete(following.message.seq);
      this.accept(intake, following.from, key, following.message, following.encoded);
    }
    if (held?.size === 0) this.holdback.delete(key);
  }

  // A peer's retention removed (room, origin) up to `seq`: those will never come, so
  // stop waiting for them and release what was held behind them.
  private skip(intake: Intake, room: string, origin: string, seq: number): void {
    const key = streamKeyOf(room, origin);
    const next = Math.max(this.expected.get(key) ?? 0, this.deps.store.highestSeq(room, origin) + 1);
    if (seq < next) return;
    this.expected.set(key, seq + 1);
    void this.deps.store.skipTo(room, origin, seq).catch((err: unknown) => {
      this.deps.log.error({ err, room, origin, seq }, 'recording a trimmed range failed');
    });
    const held = this.holdback.get(key);
    if (!held) return;
    for (const heldSeq of held.keys()) if (heldSeq <= seq) held.delete(heldSeq);
    this.drain(intake, key);
  }

  private accept(
    intake: Intake,
    from: string,
    key: string,
    message: ChatMessage,
    encoded: Uint8Array | undefined,
  ): void {
    this.expected.set(key, message.seq + 1);
    const known = intake.idOf(message, this.deps.store);
    const isAlias = known !== undefined && !isSameId(known, message);
    intake.take({ from, key, message, encoded, isAlias });
  }

  private commit({ accepted }: Intake): void {
    if (accepted.length === 0) return;
    const appended = this.deps.store.appendBatch(accepted);
    const waiting: ChatMessage[] = [];
    for (const entry of accepted) {
      if (entry.isAlias || !this.deps.showsBeforeCommit(entry.message.room)) continue;
      if (!this.shown.show(entry.key, entry.message, entry.encoded)) continue;
      waiting.push(entry.message);
      this.deps.deliver(entry.message, entry.encoded);
    }
    appended.then(
      () => {
        this.shown.settle(waiting);
        for (const { from, message, encoded, isAlias } of accepted) {
          this.deps.onStored(from, message);
          // Room messages were shown above, before the commit.
          if (!isAlias && !this.deps.showsBeforeCommit(message.room)) this.deps.deliver(message, encoded);
        }
      },
      (err: unknown) => {
        this.shown.settle(waiting);
        // Not stored: forget them so anti-entropy brings them again.
        for (const { key, message } of accepted) {
          this.expected.set(key, Math.min(this.expected.get(key) ?? message.seq, message.seq));
        }
        const first = accepted[0] as Accepted;
        this.deps.log.error(
          {
            err,
            messages: accepted.length,
            room: first.message.room,
            origin: first.message.origin,
            seq: first.message.seq,
          },
          'storing replicated messages failed',
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
