import type { ChatMessage, Cursor, MessageId } from '@meshchat/protocol';
import type { HistoryPage, MessageStore, VersionVector } from './message-store.js';

interface RoomLog {
  // Per origin, messages by seq: index i holds seq i + 1.
  byOrigin: Map<string, ChatMessage[]>;
  // Every message of the room but aliases, in (hlc, origin) order, for history pages.
  byHlc: ChatMessage[];
  aliases: Set<ChatMessage>;
}

/** Keeps everything in memory; for tests and nodes that need no history across restarts. */
export class MemoryStore implements MessageStore {
  private readonly roomLogs = new Map<string, RoomLog>();
  private readonly dedupe = new Map<string, MessageId>();

  async append(message: ChatMessage, options: { isAlias?: boolean } = {}): Promise<void> {
    const log = this.roomLog(message.room);
    const fromOrigin = log.byOrigin.get(message.origin) ?? [];
    if (message.seq !== fromOrigin.length + 1) {
      throw new Error(
        `append out of order: ${message.room}/${message.origin} seq ${message.seq} after ${fromOrigin.length}`,
      );
    }
    fromOrigin.push(message);
    log.byOrigin.set(message.origin, fromOrigin);
    if (options.isAlias) {
      log.aliases.add(message);
      return;
    }
    insertSorted(log.byHlc, message);
    this.dedupe.set(dedupeKey(message.from.clientId, message.clientMsgId), {
      room: message.room,
      origin: message.origin,
      seq: message.seq,
    });
  }

  findByClientMsgId(clientId: string, clientMsgId: string): MessageId | undefined {
    return this.dedupe.get(dedupeKey(clientId, clientMsgId));
  }

  highestSeq(room: string, origin: string): number {
    return this.roomLogs.get(room)?.byOrigin.get(origin)?.length ?? 0;
  }

  versionVector(room: string): VersionVector {
    const vector: VersionVector = {};
    for (const [origin, messages] of this.roomLogs.get(room)?.byOrigin ?? []) vector[origin] = messages.length;
    return vector;
  }

  latest(room: string, options: { before?: number; limit: number }): HistoryPage {
    const all = this.roomLogs.get(room)?.byHlc ?? [];
    const before = options.before;
    const end = before === undefined ? all.length : lowerBound(all, before);
    const start = Math.max(0, end - options.limit);
    return { messages: all.slice(start, end), hasMore: start > 0 };
  }

  after(room: string, cursor: Cursor, limit = Number.POSITIVE_INFINITY): ChatMessage[] {
    const log = this.roomLogs.get(room);
    if (!log) return [];
    const missing: ChatMessage[] = [];
    for (const [origin, messages] of log.byOrigin) {
      for (const message of messages.slice(cursor[origin] ?? 0)) if (!log.aliases.has(message)) missing.push(message);
    }
    return missing.sort(compareMessages).slice(0, limit);
  }

  range(room: string, origin: string, fromSeq: number, limit: number): ChatMessage[] {
    const messages = this.roomLogs.get(room)?.byOrigin.get(origin) ?? [];
    return messages.slice(Math.max(0, fromSeq - 1), Math.max(0, fromSeq - 1) + limit);
  }

  rooms(): string[] {
    return [...this.roomLogs.keys()];
  }

  private readonly meta = new Map<string, string>();

  getMeta(key: string): string | undefined {
    return this.meta.get(key);
  }

  setMeta(key: string, value: string): void {
    this.meta.set(key, value);
  }

  async close(): Promise<void> {}

  private roomLog(room: string): RoomLog {
    let log = this.roomLogs.get(room);
    if (!log) {
      log = { byOrigin: new Map(), byHlc: [], aliases: new Set() };
      this.roomLogs.set(room, log);
    }
    return log;
  }
}

function dedupeKey(clientId: string, clientMsgId: string): string {
  return `${clientId}\u0000${clientMsgId}`;
}

export function compareMessages(a: ChatMessage, b: ChatMessage): number {
  if (a.hlc !== b.hlc) return a.hlc - b.hlc;
  return a.origin < b.origin ? -1 : a.origin > b.origin ? 1 : a.seq - b.seq;
}

// Messages mostly arrive in hlc order, so the common case is a push.
function insertSorted(list: ChatMessage[], message: ChatMessage): void {
  const last = list[list.length - 1];
  if (!last || compareMessages(last, message) <= 0) {
    list.push(message);
    return;
  }
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareMessages(list[mid] as ChatMessage, message) <= 0) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, message);
}

// Index of the first message with hlc >= the given value.
function lowerBound(list: ChatMessage[], hlc: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((list[mid] as ChatMessage).hlc < hlc) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
