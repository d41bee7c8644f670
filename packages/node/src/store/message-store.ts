import type { ChatMessage, Cursor, HistoryPosition, MessageId } from '@meshchat/protocol';

export type { HistoryPosition };

/** Orders messages (or positions) as history does: by hlc, then origin, then seq. */
export function comparePositions(a: HistoryPosition, b: HistoryPosition): number {
  if (a.hlc !== b.hlc) return a.hlc - b.hlc;
  return a.origin < b.origin ? -1 : a.origin > b.origin ? 1 : a.seq - b.seq;
}

/** origin -> highest contiguous seq stored, for one room. */
export type VersionVector = Record<string, number>;

export interface AppendOptions {
  /** A second copy of a client message under another id: see MessageStore.append. */
  isAlias?: boolean;
  /** The message's frame as encoded for the wire, when the caller has it already. */
  encoded?: Uint8Array;
}

/** One message to append, with its options. */
export interface AppendEntry extends AppendOptions {
  message: ChatMessage;
}

/** The last seq a batch of appends brings one (room, origin) to. */
export interface StreamEnd {
  room: string;
  origin: string;
  seq: number;
}

/** Map keys for a (room, origin) stream and for a client's (clientId, clientMsgId). */
export const streamKeyOf = (room: string, origin: string): string => `${room}\u0000${origin}`;
export const dedupeKeyOf = (clientId: string, clientMsgId: string): string => `${clientId}\u0000${clientMsgId}`;

/**
 * Checks that `entries` continue their streams without gaps, from `last` (the seq each
 * stream holds now), and returns where each stream ends. Throws before anything is
 * taken: a batch is appended whole or not at all.
 */
export function streamEnds(
  entries: readonly AppendEntry[],
  last: (room: string, origin: string, key: string) => number,
): Map<string, StreamEnd> {
  const ends = new Map<string, StreamEnd>();
  for (const { message } of entries) {
    const key = streamKeyOf(message.room, message.origin);
    const end = ends.get(key);
    const previous = end ? end.seq : last(message.room, message.origin, key);
    if (message.seq !== previous + 1) {
      throw new Error(`append out of order: ${message.room}/${message.origin} seq ${message.seq} after ${previous}`);
    }
    if (end) end.seq = message.seq;
    else ends.set(key, { room: message.room, origin: message.origin, seq: message.seq });
  }
  return ends;
}

export interface HistoryPage {
  messages: ChatMessage[];
  // True when older messages exist before the first one returned.
  hasMore: boolean;
}

/**
 * Where a node keeps room messages. The chat and replication layers only see this
 * interface; an in-memory implementation serves tests and the durable one (lmdb)
 * keeps history across restarts. Appends per (room, origin) must be contiguous: the
 * replication layer holds back a message until its predecessor is stored.
 */
export interface MessageStore {
  /**
   * Resolves once the message is committed; only then may it be acked or relayed. An
   * alias (a second copy of one client message under another id) counts in the
   * version vector and is served to peers, but never to clients.
   */
  append(message: ChatMessage, options?: AppendOptions): Promise<void>;
  /**
   * Appends many messages as one: all are committed together (one promise) or none.
   * Rejects at once, taking nothing, if any would leave a gap in its stream.
   */
  appendBatch(entries: readonly AppendEntry[]): Promise<void>;
  /** The id already given to a client's message, for dedupe of resends. */
  findByClientMsgId(clientId: string, clientMsgId: string): MessageId | undefined;
  /** Highest contiguous seq stored for (room, origin); 0 when none. */
  highestSeq(room: string, origin: string): number;
  versionVector(room: string): VersionVector;
  /** The newest `limit` messages before `before` in history order, oldest first. */
  latest(room: string, options: { before?: HistoryPosition; limit: number }): HistoryPage;
  /**
   * Messages with seq > cursor[origin] (0 for origins the cursor lacks), in hlc order,
   * aliases left out; at most `limit`, the oldest first.
   */
  after(room: string, cursor: Cursor, limit?: number): ChatMessage[];
  /** Up to `limit` messages of one (room, origin) from `fromSeq` on, aliases included. */
  range(room: string, origin: string, fromSeq: number, limit: number): ChatMessage[];
  rooms(): string[];
  /**
   * The seq up to which retention removed (room, origin): those messages are gone but
   * still count in the version vector. 0 when nothing was trimmed.
   */
  floor(room: string, origin: string): number;
  /**
   * Removes the room's messages before `position` in history order. Per origin that
   * is a prefix of its seqs (an origin's hlcs grow with its seqs), so it moves the
   * floors. Resolves with how many messages went.
   */
  trimBefore(room: string, position: HistoryPosition): Promise<number>;
  /**
   * Records that messages of (room, origin) up to `seq` were trimmed by retention on a
   * peer and will never come: the vector and the floor move to `seq`.
   */
  skipTo(room: string, origin: string, seq: number): Promise<void>;
  /** The position of the room's n-th newest message (1 is the newest), for count limits. */
  nthNewest(room: string, n: number): HistoryPosition | undefined;
  /** Small settings kept with the data, such as the origin id this store writes under. */
  getMeta(key: string): string | undefined;
  setMeta(key: string, value: string): void;
  close(): Promise<void>;
}
