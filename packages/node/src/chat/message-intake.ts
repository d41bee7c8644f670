import { type ChatMessage, encodeMessageFrame, type MessageId } from '@meshchat/protocol';
import { dedupeKeyOf, type MessageStore } from '../store/message-store.js';
import type { Identity } from './client-session.js';
import { Sequencer } from './sequencer.js';

export interface OriginGate {
  isDone: boolean;
  ready: Promise<void>;
  /** The origin id of messages accepted here; read once isDone. */
  origin: string;
}

export interface MessageIntakeDeps {
  store: MessageStore;
  now: () => number;
  /** A message accepted here is committed: deliver it and relay it, with one encoding. */
  onCommitted: (message: ChatMessage, encoded: Uint8Array) => void;
  /** Messages wait until this node knows the origin id it may write under (OriginRecovery). */
  gate: OriginGate;
  /** Resolves once enough peers hold this node's (room, seq): the write quorum. */
  whenReplicated: (room: string, seq: number) => Promise<void>;
}

/**
 * Accepts messages from this node's clients: gives each its id, commits it, and only
 * then hands it on; the id (the ack) comes once the write quorum holds it too. A resend of something already accepted (same clientId and
 * clientMsgId), here or on a node that replicated it to us, gets the original id and
 * is not delivered again (design.md guarantee 2).
 */
export class MessageIntake {
  private readonly sequencer: Sequencer;
  // Accepted but not yet committed, so a quick resend is not accepted twice.
  private readonly inFlight = new Map<string, Promise<MessageId>>();

  constructor(private readonly deps: MessageIntakeDeps) {
    this.sequencer = new Sequencer(() => deps.gate.origin, deps.store, deps.now);
  }

  /** Observes a replicated message's clock, so later local ids order after it. */
  observe(message: ChatMessage): void {
    this.sequencer.clock.observe(message.hlc);
  }

  /**
   * The id of a message this client already sent with this clientMsgId (a resend),
   * resolved as `accept` would; undefined when it is new, or not yet known.
   */
  earlier(from: Identity, clientMsgId: string): Promise<MessageId> | undefined {
    if (!this.deps.gate.isDone) return undefined;
    // In flight first: a store may already name the id of a write it has not yet
    // committed, and a resend must not be acked before the original is durable.
    const pending = this.inFlight.get(dedupeKeyOf(from.clientId, clientMsgId));
    if (pending) return pending;
    const known = this.deps.store.findByClientMsgId(from.clientId, clientMsgId);
    if (!known) return undefined;
    // Ours, maybe from before a restart: acked once its replicas hold it, as any other.
    if (known.origin !== this.deps.gate.origin) return Promise.resolve(known);
    return this.deps.whenReplicated(known.room, known.seq).then(() => known);
  }

  /** Resolves with the message's id once it is committed here and on its replicas. */
  accept(from: Identity, room: string, text: string, clientMsgId: string): Promise<MessageId> {
    // Waiting messages keep their order: the callbacks run in the order they were added.
    if (!this.deps.gate.isDone) return this.deps.gate.ready.then(() => this.accept(from, room, text, clientMsgId));
    const earlier = this.earlier(from, clientMsgId);
    if (earlier) return earlier;
    const key = dedupeKeyOf(from.clientId, clientMsgId);
    const message = this.sequencer.next(room, { clientId: from.clientId, nick: from.nick }, text, clientMsgId);
    const id: MessageId = { room: message.room, origin: message.origin, seq: message.seq };
    const encoded = encodeMessageFrame(message);
    const acked = this.deps.store
      .append(message, { encoded })
      .then(
        () => this.deps.onCommitted(message, encoded),
        (err: unknown) => {
          this.sequencer.resync(room);
          throw err;
        },
      )
      .then(() => this.deps.whenReplicated(room, message.seq))
      .then(() => id);
    this.inFlight.set(key, acked);
    const forget = () => this.inFlight.delete(key);
    acked.then(forget, forget);
    return acked;
  }
}
