import { mkdirSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import {
  type ChatMessage,
  type Cursor,
  encodeMessageFrame,
  LENGTH_PREFIX_BYTES,
  type MessageId,
  unpackTrusted,
} from '@meshchat/protocol';
import { type Database, open, type RootDatabase } from 'lmdb';
import { DEFAULT_GROUP_COMMIT_MS } from '../constants.js';
import { StoreError } from '../errors.js';
import { type CommitStats, GroupCommit } from './group-commit.js';
import { findLmdbFileProblem } from './lmdb-file-check.js';
import {
  type AppendEntry,
  type AppendOptions,
  comparePositions,
  dedupeKeyOf,
  type HistoryPage,
  type HistoryPosition,
  type MessageStore,
  type StreamEnd,
  streamEnds,
  streamKeyOf,
  type VersionVector,
} from './message-store.js';

// Bumped when the on-disk layout changes; a node refuses a data directory written by a
// newer version rather than misreading it.
export const STORE_FORMAT_VERSION = 2;

// Free disk space below which the store refuses to open.
const MIN_FREE_BYTES = 64 * 1024 * 1024;

// The value of an index entry: msgpack's 1, as format 2 has always written it.
const PRESENT = new Uint8Array([1]);

// Sorts after every real hlc in ordered-binary keys.
const MAX_KEY_NUMBER = Number.MAX_SAFE_INTEGER;

type MessageKey = [room: string, origin: string, seq: number];
type HistoryKey = [room: string, hlc: number, origin: string, seq: number];

interface PendingAppend {
  message: ChatMessage;
  encoded: Uint8Array;
  isAlias: boolean;
}

export interface LmdbStoreOptions {
  /** Group commit window: see GroupCommit. */
  groupCommitMs: number;
  /** Told of every completed commit (for metrics). */
  onCommitted?: (stats: CommitStats) => void;
}

/**
 * The durable store: one LMDB environment per node under dataDir. LMDB is a
 * copy-on-write B-tree, so a kill -9 at any moment leaves the last committed state.
 * Appends are committed in groups (GroupCommit), one transaction each, and flushed
 * (fsync) before their promises resolve: never acked on a lazy timer.
 *
 * Layout (ordered-binary keys):
 *   messages [room, origin, seq]        -> the message frame  every message, aliases too
 *                                          (format 1: the message as a msgpack map)
 *   history  [room, hlc, origin, seq]   -> 1                 the hlc index, no aliases
 *   aliases  [room, origin, seq]        -> 1
 *   vectors  [room, origin]             -> highest contiguous seq (held or trimmed)
 *   floors   [room, origin]             -> seq up to which retention trimmed
 *   dedupe   [clientId, clientMsgId]    -> [room, origin, seq]
 *   meta     'formatVersion'            -> STORE_FORMAT_VERSION
 */
export class LmdbStore implements MessageStore {
  private readonly root: RootDatabase;
  private readonly messages: Database<Uint8Array, MessageKey>;
  private readonly history: Database<Uint8Array, HistoryKey>;
  private readonly aliases: Database<Uint8Array, MessageKey>;
  private readonly vectorsDb: Database<number, [string, string]>;
  private readonly dedupe: Database<MessageKey, [string, string]>;
  private readonly floorsDb: Database<number, [string, string]>;
  private readonly floors = new Map<string, number>();
  // Committed positions, per room; loaded at open, updated when a commit completes.
  private readonly vectors = new Map<string, Map<string, number>>();
  // Appended, committed or not: the next append of a stream must follow it.
  private readonly appended = new Map<string, number>();
  // Dedupe records whose commit is under way, so a quick resend is recognised.
  private readonly pendingDedupe = new Map<string, MessageId>();
  private readonly commits: GroupCommit<PendingAppend>;

  private constructor(
    readonly path: string,
    options: LmdbStoreOptions,
  ) {
    this.root = open({ path, maxDbs: 8, compression: false, overlappingSync: false });
    // The frame as it goes on the wire: stored without re-encoding, read back rarely.
    this.messages = this.root.openDB({ name: 'messages', keyEncoding: 'ordered-binary', encoding: 'binary' });
    // Index entries whose value is never read: the byte of msgpack's 1, written as is.
    this.history = this.root.openDB({ name: 'history', keyEncoding: 'ordered-binary', encoding: 'binary' });
    this.aliases = this.root.openDB({ name: 'aliases', keyEncoding: 'ordered-binary', encoding: 'binary' });
    this.vectorsDb = this.root.openDB({ name: 'vectors', keyEncoding: 'ordered-binary', encoding: 'msgpack' });
    this.dedupe = this.root.openDB({ name: 'dedupe', keyEncoding: 'ordered-binary', encoding: 'msgpack' });
    this.floorsDb = this.root.openDB({ name: 'floors', keyEncoding: 'ordered-binary', encoding: 'msgpack' });
    this.commits = new GroupCommit({
      intervalMs: options.groupCommitMs,
      // One explicit transaction per batch: all of it commits or none, whatever else
      // LMDB has queued (a turn's puts are one transaction only by its batching rules).
      write: (batch) => this.root.transaction(() => this.writeBatch(batch)),
      ...(options.onCommitted ? { onCommitted: options.onCommitted } : {}),
    });
  }

  /**
   * Opens (or creates) the store under `dataDir`. Refuses, naming the path, a store of
   * a newer format, one LMDB cannot read, or one whose vectors point at messages it
   * does not hold: a damaged store must not be served or spread to peers.
   */
  static open(dataDir: string, options: LmdbStoreOptions = { groupCommitMs: DEFAULT_GROUP_COMMIT_MS }): LmdbStore {
    const path = join(dataDir, 'meshchat.mdb');
    let store: LmdbStore;
    try {
      mkdirSync(dataDir, { recursive: true });
      checkFreeSpace(dataDir, path);
      const problem = findLmdbFileProblem(path);
      if (problem) {
        throw new StoreError(
          path,
          `refusing to open the store: ${problem}; move the data directory aside and restart to recover from peers`,
        );
      }
      store = new LmdbStore(path, options);
    } catch (err) {
      if (err instanceof StoreError) throw err;
      throw new StoreError(path, `cannot open the store: ${describe(err)}`, err);
    }
    try {
      store.checkFormat();
      store.loadVectors();
    } catch (err) {
      void store.root.close();
      if (err instanceof StoreError) throw err;
      throw new StoreError(path, `the store cannot be read: ${describe(err)}`, err);
    }
    return store;
  }

  append(message: ChatMessage, options: AppendOptions = {}): Promise<void> {
    return this.appendBatch([{ message, ...options }]);
  }

  appendBatch(entries: readonly AppendEntry[]): Promise<void> {
    let ends: Map<string, StreamEnd>;
    try {
      ends = streamEnds(entries, (room, origin, key) => this.appended.get(key) ?? this.committedSeq(room, origin));
    } catch (err) {
      return Promise.reject(err);
    }
    const batch: PendingAppend[] = [];
    const dedupeKeys: string[] = [];
    for (const { message, encoded, isAlias = false } of entries) {
      if (!isAlias) {
        const key = dedupeKeyOf(message.from.clientId, message.clientMsgId);
        this.pendingDedupe.set(key, { room: message.room, origin: message.origin, seq: message.seq });
        dedupeKeys.push(key);
      }
      batch.push({ message, encoded: encoded ?? encodeMessageFrame(message), isAlias });
    }
    for (const [key, end] of ends) this.appended.set(key, end.seq);
    return this.commits.add(batch).then(
      () => {
        for (const key of dedupeKeys) this.pendingDedupe.delete(key);
        for (const end of ends.values()) {
          const vector = this.roomVector(end.room);
          vector.set(end.origin, Math.max(vector.get(end.origin) ?? 0, end.seq));
        }
      },
      (err: unknown) => {
        for (const key of dedupeKeys) this.pendingDedupe.delete(key);
        // Later appends of these streams failed too; continue from what is on disk.
        for (const [key, end] of ends) this.appended.set(key, this.committedSeq(end.room, end.origin));
        throw new StoreError(this.path, `write failed: ${describe(err)}`, err);
      },
    );
  }

  // Runs inside one write transaction: a message, its index entries and its stream's
  // vector commit together or not at all. The vector is written once per stream.
  private writeBatch(batch: readonly PendingAppend[]): void {
    const highest = new Map<string, PendingAppend>();
    for (const { message, encoded, isAlias } of batch) {
      const key: MessageKey = [message.room, message.origin, message.seq];
      this.messages.put(key, encoded);
      if (isAlias) {
        this.aliases.put(key, PRESENT);
      } else {
        this.history.put([message.room, message.hlc, message.origin, message.seq], PRESENT);
        this.dedupe.put([message.from.clientId, message.clientMsgId], key);
      }
      highest.set(streamKeyOf(message.room, message.origin), { message, encoded, isAlias });
    }
    for (const { message } of highest.values()) this.vectorsDb.put([message.room, message.origin], message.seq);
  }

  findByClientMsgId(clientId: string, clientMsgId: string): MessageId | undefined {
    const pending = this.pendingDedupe.get(dedupeKeyOf(clientId, clientMsgId));
    if (pending) return pending;
    const key = this.dedupe.get([clientId, clientMsgId]);
    return key ? { room: key[0], origin: key[1], seq: key[2] } : undefined;
  }

  highestSeq(room: string, origin: string): number {
    return this.committedSeq(room, origin);
  }

  versionVector(room: string): VersionVector {
    return Object.fromEntries(this.vectors.get(room) ?? []);
  }

  latest(room: string, options: { before?: HistoryPosition; limit: number }): HistoryPage {
    const before = options.before;
    const keys = this.history.getRange({
      start: before ? [room, before.hlc, before.origin, before.seq] : [room, MAX_KEY_NUMBER],
      end: [room],
      reverse: true,
      exclusiveStart: before !== undefined,
      limit: options.limit + 1,
    });
    const found: ChatMessage[] = [];
    for (const { key } of keys) {
      const value = this.messages.get([key[0], key[2], key[3]]);
      if (value) found.push(readMessage(value));
    }
    const hasMore = found.length > options.limit;
    return { messages: found.slice(0, options.limit).reverse(), hasMore };
  }

  after(room: string, cursor: Cursor, limit = Number.POSITIVE_INFINITY): ChatMessage[] {
    // Each origin's stream is in hlc order already: merge them, smallest hlc first.
    const streams: Iterator<ChatMessage>[] = [];
    for (const [origin, seq] of this.vectors.get(room) ?? []) {
      const from = (cursor[origin] ?? 0) + 1;
      if (from > seq) continue;
      const entries = this.messages.getRange({
        start: [room, origin, from],
        end: [room, origin, seq],
        inclusiveEnd: true,
      });
      streams.push(this.withoutAliases(entries.map(({ value }) => readMessage(value)))[Symbol.iterator]());
    }
    return mergeByHlc(streams, limit);
  }

  range(room: string, origin: string, fromSeq: number, limit: number): ChatMessage[] {
    const entries = this.messages.getRange({
      start: [room, origin, fromSeq],
      end: [room, origin, MAX_KEY_NUMBER],
      limit,
    });
    return Array.from(entries, ({ value }) => readMessage(value));
  }

  rooms(): string[] {
    return [...this.vectors.keys()];
  }

  floor(room: string, origin: string): number {
    return this.floors.get(streamKeyOf(room, origin)) ?? 0;
  }

  async trimBefore(room: string, position: HistoryPosition): Promise<number> {
    let removed = 0;
    let last: Promise<boolean> | undefined;
    const newFloors: [string, number][] = [];
    for (const [origin, highest] of this.vectors.get(room) ?? []) {
      const from = this.floor(room, origin) + 1;
      if (from > highest) continue;
      let upTo = from - 1;
      for (const { key, value } of this.messages.getRange({
        start: [room, origin, from],
        end: [room, origin, highest],
        inclusiveEnd: true,
      })) {
        const message = readMessage(value);
        if (comparePositions(message, position) >= 0) break;
        this.removeMessage(key, message);
        upTo = message.seq;
        removed++;
      }
      if (upTo < from) continue;
      last = this.floorsDb.put([room, origin], upTo);
      newFloors.push([origin, upTo]);
    }
    if (last) await last;
    for (const [origin, upTo] of newFloors) this.floors.set(streamKeyOf(room, origin), upTo);
    return removed;
  }

  async skipTo(room: string, origin: string, seq: number): Promise<void> {
    const streamKey = streamKeyOf(room, origin);
    const held = this.appended.get(streamKey) ?? this.committedSeq(room, origin);
    if (seq <= held) return;
    this.appended.set(streamKey, seq);
    // What we still hold below the peer's floor was trimmed there: trim it here too.
    for (const { key, value } of this.messages.getRange({
      start: [room, origin, this.floor(room, origin) + 1],
      end: [room, origin, held],
      inclusiveEnd: true,
    })) {
      this.removeMessage(key, readMessage(value));
    }
    this.floorsDb.put([room, origin], seq);
    await this.vectorsDb.put([room, origin], seq);
    this.floors.set(streamKey, seq);
    const vector = this.roomVector(room);
    vector.set(origin, Math.max(vector.get(origin) ?? 0, seq));
  }

  nthNewest(room: string, n: number): HistoryPosition | undefined {
    for (const { key } of this.history.getRange({
      start: [room, MAX_KEY_NUMBER],
      end: [room],
      reverse: true,
      offset: n - 1,
      limit: 1,
    })) {
      return { hlc: key[1], origin: key[2], seq: key[3] };
    }
    return undefined;
  }

  getMeta(key: string): string | undefined {
    const value = this.root.get(`meta:${key}`);
    return typeof value === 'string' ? value : undefined;
  }

  setMeta(key: string, value: string): void {
    this.root.putSync(`meta:${key}`, value);
  }

  async close(): Promise<void> {
    await this.commits.drain();
    await this.root.close();
  }

  private *withoutAliases(messages: Iterable<ChatMessage>): Iterable<ChatMessage> {
    for (const message of messages) {
      if (this.aliases.get([message.room, message.origin, message.seq]) === undefined) yield message;
    }
  }

  // Removes one message and its index entries, in the current write batch.
  private removeMessage(key: MessageKey, message: ChatMessage): void {
    this.messages.remove(key);
    this.history.remove([message.room, message.hlc, message.origin, message.seq]);
    this.aliases.remove(key);
    const owner = this.dedupe.get([message.from.clientId, message.clientMsgId]);
    if (owner && owner[1] === message.origin && owner[2] === message.seq) {
      this.dedupe.remove([message.from.clientId, message.clientMsgId]);
    }
  }

  private committedSeq(room: string, origin: string): number {
    return this.vectors.get(room)?.get(origin) ?? 0;
  }

  private roomVector(room: string): Map<string, number> {
    let vector = this.vectors.get(room);
    if (!vector) {
      vector = new Map();
      this.vectors.set(room, vector);
    }
    return vector;
  }

  private checkFormat(): void {
    const version = this.root.get('formatVersion') as number | undefined;
    if (version === undefined) {
      this.root.putSync('formatVersion', STORE_FORMAT_VERSION);
      return;
    }
    if (version > STORE_FORMAT_VERSION) {
      throw new StoreError(
        this.path,
        `the store has format version ${version}, this node reads up to version ${STORE_FORMAT_VERSION}; run a newer meshchat or move the data directory aside`,
      );
    }
  }

  // Loads the vectors and checks each against the messages it claims: a vector that
  // points past what is stored means the file was damaged or truncated.
  private loadVectors(): void {
    for (const { key, value } of this.floorsDb.getRange({})) this.floors.set(streamKeyOf(key[0], key[1]), value);
    for (const { key, value } of this.vectorsDb.getRange({})) {
      const [room, origin] = key;
      const isTrimmed = value <= this.floor(room, origin);
      if (!isTrimmed && this.messages.get([room, origin, value]) === undefined) {
        throw new StoreError(
          this.path,
          `the store is damaged: room "${room}" claims messages of ${origin} up to seq ${value}, but seq ${value} is missing; move the data directory aside and restart to recover from peers`,
        );
      }
      this.roomVector(room).set(origin, value);
    }
  }
}

// Refuse to start on a nearly full disk: better a clear error now than failed writes
// (and unacked messages) later.
function checkFreeSpace(dataDir: string, path: string): void {
  const stats = statfsSync(dataDir);
  const free = stats.bavail * stats.bsize;
  if (free < MIN_FREE_BYTES) {
    throw new StoreError(
      path,
      `only ${Math.floor(free / 1024 / 1024)} MiB free on the disk; the store needs at least ${MIN_FREE_BYTES / 1024 / 1024} MiB`,
    );
  }
}

function mergeByHlc(streams: Iterator<ChatMessage>[], limit: number): ChatMessage[] {
  const heads = streams.map((s) => s.next()).map((r, i) => ({ r, i }));
  const out: ChatMessage[] = [];
  while (out.length < limit) {
    let best: { r: IteratorResult<ChatMessage>; i: number } | undefined;
    for (const head of heads) {
      if (head.r.done) continue;
      if (!best || comparePositions(head.r.value, best.r.value as ChatMessage) < 0) best = head;
    }
    if (!best) break;
    out.push(best.r.value as ChatMessage);
    best.r = (streams[best.i] as Iterator<ChatMessage>).next();
  }
  return out;
}

// Format 2 keeps the frame, whose length prefix starts with a 0 byte (frames are far
// below 16 MiB); format 1 kept a msgpack map, which never starts with 0.
function readMessage(value: Uint8Array): ChatMessage {
  const payload = value[0] === 0 ? value.subarray(LENGTH_PREFIX_BYTES) : value;
  const { type: _type, ...message } = unpackTrusted(payload) as ChatMessage & { type?: string };
  return message;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
