import type { ChatMessage, Cursor, MessageId } from '@meshchat/protocol';
import {
  type AppendEntry,
  type AppendOptions,
  comparePositions,
  dedupeKeyOf,
  type HistoryPage,
  type HistoryPosition,
  type MessageStore,
  streamEnds,
  type VersionVector,
} from './message-store.js';

interface OriginLog {
  // Seqs up to here were trimmed; messages[i] holds seq floor + 1 + i.
  floor: number;
  messages: ChatMessage[];
}

interface RoomLog {
  byOrigin: Map<string, OriginLog>;
  // Every message of the room but aliases, in (hlc, origin) order, for history pages.
  byHlc: ChatMessage[];
  aliases: Set<ChatMessage>;
}

/** Keeps everything in memory; for tests and nodes that need no history across restarts. */
export class MemoryStore implements MessageStore {
  private readonly roomLogs = new Map<string, RoomLog>();
  private readonly dedupe = new Map<string, MessageId>();
  private readonly meta = new Map<string, string>();

  append(message: ChatMessage, options: AppendOptions = {}): Promise<void> {
    return this.appendBatch([{ message, ...options }]);
  }

  async appendBatch(entries: readonly AppendEntry[]): Promise<void> {
    streamEnds(entries, (room, origin) => this.highestSeq(room, origin));
    for (const { message, isAlias } of entries) {
      const log = this.roomLog(message.room);
      this.originLog(log, message.origin).messages.push(message);
      if (isAlias) {
        log.aliases.add(message);
        continue;
      }
      insertSorted(log.byHlc, message);
      this.dedupe.set(dedupeKeyOf(message.from.clientId, message.clientMsgId), {
        room: message.room,
        origin: message.origin,
        seq: message.seq,
      });
    }
  }

  findByClientMsgId(clientId: string, clientMsgId: string): MessageId | undefined {
    return this.dedupe.get(dedupeKeyOf(clientId, clientMsgId));
  }

  highestSeq(room: string, origin: string): number {
    const stream = this.roomLogs.get(room)?.byOrigin.get(origin);
    return stream ? stream.floor + stream.messages.length : 0;
  }

  versionVector(room: string): VersionVector {
    const vector: VersionVector = {};
    for (const [origin, stream] of this.roomLogs.get(room)?.byOrigin ?? []) {
      vector[origin] = stream.floor + stream.messages.length;
    }
    return vector;
  }

  latest(room: string, options: { before?: HistoryPosition; limit: number }): HistoryPage {
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
    for (const [origin, stream] of log.byOrigin) {
      const from = Math.max(0, (cursor[origin] ?? 0) - stream.floor);
      for (const message of stream.messages.slice(from)) if (!log.aliases.has(message)) missing.push(message);
    }
    return missing.sort(comparePositions).slice(0, limit);
  }

  range(room: string, origin: string, fromSeq: number, limit: number): ChatMessage[] {
    const stream = this.roomLogs.get(room)?.byOrigin.get(origin);
    if (!stream) return [];
    const start = Math.max(0, fromSeq - stream.floor - 1);
    return stream.messages.slice(start, start + limit);
  }

  rooms(): string[] {
    return [...this.roomLogs.keys()];
  }

  floor(room: string, origin: string): number {
    return this.roomLogs.get(room)?.byOrigin.get(origin)?.floor ?? 0;
  }

  async trimBefore(room: string, position: HistoryPosition): Promise<number> {
    const log = this.roomLogs.get(room);
    if (!log) return 0;
    let removed = 0;
    for (const stream of log.byOrigin.values()) {
      let count = 0;
      while (count < stream.messages.length && comparePositions(stream.messages[count] as ChatMessage, position) < 0) {
        count++;
      }
      for (const message of stream.messages.slice(0, count)) {
        log.aliases.delete(message);
        const key = dedupeKeyOf(message.from.clientId, message.clientMsgId);
        if (this.dedupe.get(key)?.seq === message.seq) this.dedupe.delete(key);
      }
      stream.messages.splice(0, count);
      stream.floor += count;
      removed += count;
    }
    let kept = 0;
    while (kept < log.byHlc.length && comparePositions(log.byHlc[kept] as ChatMessage, position) < 0) kept++;
    log.byHlc.splice(0, kept);
    return removed;
  }

  async skipTo(room: string, origin: string, seq: number): Promise<void> {
    const stream = this.originLog(this.roomLog(room), origin);
    if (seq <= stream.floor + stream.messages.length) return;
    for (const message of stream.messages) this.roomLog(room).aliases.delete(message);
    stream.messages = [];
    stream.floor = seq;
  }

  nthNewest(room: string, n: number): HistoryPosition | undefined {
    const all = this.roomLogs.get(room)?.byHlc ?? [];
    const message = all[all.length - n];
    return message && { hlc: message.hlc, origin: message.origin, seq: message.seq };
  }

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

  private originLog(log: RoomLog, origin: string): OriginLog {
    let stream = log.byOrigin.get(origin);
    if (!stream) {
      stream = { floor: 0, messages: [] };
      log.byOrigin.set(origin, stream);
    }
    return stream;
  }
}

// Messages mostly arrive in hlc order, so the common case is a push.
function insertSorted(list: ChatMessage[], message: ChatMessage): void {
  const last = list[list.length - 1];
  if (!last || comparePositions(last, message) <= 0) {
    list.push(message);
    return;
  }
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (comparePositions(list[mid] as ChatMessage, message) <= 0) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, message);
}

// Index of the first message at or after the given position.
function lowerBound(list: ChatMessage[], position: HistoryPosition): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (comparePositions(list[mid] as ChatMessage, position) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
