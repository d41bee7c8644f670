import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LmdbStore, MemoryStore, type MessageStore, STORE_FORMAT_VERSION, StoreError } from '@meshchat/node';
import type { ChatMessage } from '@meshchat/protocol';
import { open } from 'lmdb';
import { describe, expect, it } from 'vitest';
import { onCleanup } from '../../../test/harness/index.js';

// A history position just before every message of that hlc.
const at = (hlc: number) => ({ hlc, origin: '', seq: 0 });

const message = (origin: string, seq: number, hlc: number, room = 'general'): ChatMessage => ({
  room,
  origin,
  seq,
  hlc,
  from: { clientId: `client-${origin}`, nick: 'n' },
  text: `${origin}#${seq}`,
  clientMsgId: `${origin}-${seq}`,
  sentAt: hlc,
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'meshchat-store-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function openLmdb(dir = tempDir()): LmdbStore {
  const store = LmdbStore.open(dir);
  onCleanup(() => store.close());
  return store;
}

const implementations: [string, () => MessageStore][] = [
  ['MemoryStore', () => new MemoryStore()],
  ['LmdbStore', () => openLmdb()],
];

// Every store keeps the same contract; the chat and replication layers rely on it.
for (const [name, create] of implementations) {
  describe(`${name} (store contract)`, () => {
    it('appends per (room, origin) in seq order only, and counts them in the vector', async () => {
      const store = create();
      await store.append(message('a', 1, 10));
      await store.append(message('b', 1, 11));
      await store.append(message('a', 2, 12));
      await expect(store.append(message('a', 4, 13))).rejects.toThrow(/out of order/);
      expect(store.versionVector('general')).toEqual({ a: 2, b: 1 });
      expect(store.highestSeq('general', 'a')).toBe(2);
      expect(store.rooms()).toEqual(['general']);
    });

    it('appends a batch whole or not at all: a gap anywhere in it takes none of it', async () => {
      const store = create();
      await store.appendBatch([
        { message: message('a', 1, 10) },
        { message: message('b', 1, 11) },
        { message: message('a', 2, 12) },
        { message: message('b', 1, 13, 'other'), isAlias: false },
      ]);
      expect(store.versionVector('general')).toEqual({ a: 2, b: 1 });
      expect(store.findByClientMsgId('client-a', 'a-2')).toEqual({ room: 'general', origin: 'a', seq: 2 });
      await expect(
        store.appendBatch([{ message: message('a', 3, 14) }, { message: message('b', 3, 15) }]),
      ).rejects.toThrow(/out of order: general\/b seq 3 after 1/);
      expect(store.versionVector('general')).toEqual({ a: 2, b: 1 });
      expect(store.findByClientMsgId('client-a', 'a-3')).toBeUndefined();
      // The stream goes on from what it held before the refused batch.
      await store.appendBatch([{ message: message('a', 3, 14) }, { message: message('b', 2, 15), isAlias: true }]);
      expect(store.versionVector('general')).toEqual({ a: 3, b: 2 });
      expect(store.latest('general', { limit: 10 }).messages.map((m) => `${m.origin}#${m.seq}`)).toEqual([
        'a#1',
        'b#1',
        'a#2',
        'a#3',
      ]);
    });

    it('pages history newest first by hlc, oldest first within a page', async () => {
      const store = create();
      for (let seq = 1; seq <= 10; seq++) await store.append(message('a', seq, seq * 10));
      expect(store.latest('general', { limit: 3 })).toEqual({
        messages: [message('a', 8, 80), message('a', 9, 90), message('a', 10, 100)],
        hasMore: true,
      });
      expect(store.latest('general', { limit: 3, before: at(80) }).messages.map((m) => m.seq)).toEqual([5, 6, 7]);
      expect(store.latest('general', { limit: 5, before: at(30) })).toEqual({
        messages: [message('a', 1, 10), message('a', 2, 20)],
        hasMore: false,
      });
    });

    it('pages past two messages of one hlc without skipping either', async () => {
      const store = create();
      await store.append(message('a', 1, 50));
      await store.append(message('b', 1, 50));
      const first = store.latest('general', { limit: 1 });
      expect(first.messages.map((m) => m.text)).toEqual(['b#1']);
      const second = store.latest('general', { limit: 1, before: first.messages[0] });
      expect(second).toEqual({ messages: [message('a', 1, 50)], hasMore: false });
    });

    it('replays after a cursor in hlc order across origins, up to a limit', async () => {
      const store = create();
      await store.append(message('a', 1, 10));
      await store.append(message('b', 1, 15));
      await store.append(message('a', 2, 20));
      await store.append(message('b', 2, 25));
      expect(store.after('general', { a: 1 }).map((m) => m.text)).toEqual(['b#1', 'a#2', 'b#2']);
      expect(store.after('general', {}, 2).map((m) => m.text)).toEqual(['a#1', 'b#1']);
    });

    it('keeps an alias in the vector and for peers, never in history or replays', async () => {
      const store = create();
      await store.append(message('a', 1, 10));
      await store.append(message('b', 1, 11), { isAlias: true });
      expect(store.versionVector('general')).toEqual({ a: 1, b: 1 });
      expect(store.range('general', 'b', 1, 10).map((m) => m.text)).toEqual(['b#1']);
      expect(store.latest('general', { limit: 10 }).messages.map((m) => m.text)).toEqual(['a#1']);
      expect(store.after('general', {}).map((m) => m.text)).toEqual(['a#1']);
      expect(store.findByClientMsgId('client-b', 'b-1')).toBeUndefined();
      expect(store.findByClientMsgId('client-a', 'a-1')).toEqual({ room: 'general', origin: 'a', seq: 1 });
    });

    it('trims by hlc as a prefix of each origin, keeping the vector and moving the floor', async () => {
      const store = create();
      for (let seq = 1; seq <= 5; seq++) await store.append(message('a', seq, seq * 10));
      for (let seq = 1; seq <= 3; seq++) await store.append(message('b', seq, seq * 10 + 5));
      expect(store.nthNewest('general', 3)).toEqual({ hlc: 35, origin: 'b', seq: 3 });
      expect(await store.trimBefore('general', { hlc: 35, origin: 'b', seq: 3 })).toBe(5);
      expect(store.floor('general', 'a')).toBe(3);
      expect(store.floor('general', 'b')).toBe(2);
      expect(store.versionVector('general')).toEqual({ a: 5, b: 3 });
      expect(store.latest('general', { limit: 10 }).messages.map((m) => m.text)).toEqual(['b#3', 'a#4', 'a#5']);
      expect(store.range('general', 'a', 1, 10).map((m) => m.seq)).toEqual([4, 5]);
      expect(store.after('general', {}).map((m) => m.text)).toEqual(['b#3', 'a#4', 'a#5']);
      await store.append(message('a', 6, 60));
      expect(store.versionVector('general')).toEqual({ a: 6, b: 3 });
    });

    it('skips a range trimmed elsewhere: the vector moves on and the next seq follows it', async () => {
      const store = create();
      await store.append(message('a', 1, 10));
      await store.skipTo('general', 'a', 40);
      expect(store.versionVector('general')).toEqual({ a: 40 });
      expect(store.floor('general', 'a')).toBe(40);
      await expect(store.append(message('a', 2, 20))).rejects.toThrow(/out of order/);
      await store.append(message('a', 41, 410));
      expect(store.range('general', 'a', 1, 100).map((m) => m.seq)).toEqual([41]);
    });

    it('keeps small settings', () => {
      const store = create();
      expect(store.getMeta('origin')).toBeUndefined();
      store.setMeta('origin', 'node-a');
      expect(store.getMeta('origin')).toBe('node-a');
    });
  });
}

describe('LmdbStore on disk', () => {
  it('reopens with every message, vector, floor, dedupe record and setting', async () => {
    const dir = tempDir();
    const first = LmdbStore.open(dir);
    for (let seq = 1; seq <= 20; seq++) await first.append(message('a', seq, seq * 10));
    await first.trimBefore('general', { hlc: 50, origin: '', seq: 0 });
    first.setMeta('origin', 'a');
    await first.close();

    const second = openLmdb(dir);
    expect(second.versionVector('general')).toEqual({ a: 20 });
    expect(second.floor('general', 'a')).toBe(4);
    expect(second.latest('general', { limit: 100 }).messages).toHaveLength(16);
    expect(second.findByClientMsgId('client-a', 'a-20')).toEqual({ room: 'general', origin: 'a', seq: 20 });
    expect(second.getMeta('origin')).toBe('a');
    await second.append(message('a', 21, 210));
  });

  it('refuses a store of a newer format version, naming the file', async () => {
    const dir = tempDir();
    const path = join(dir, 'meshchat.mdb');
    const raw = open({ path, maxDbs: 8 });
    raw.putSync('formatVersion', 99);
    await raw.close();
    const error = (() => {
      try {
        LmdbStore.open(dir);
      } catch (err) {
        return err as StoreError;
      }
    })();
    expect(error).toBeInstanceOf(StoreError);
    expect(error?.message).toContain(path);
    expect(error?.message).toMatch(new RegExp(`format version 99.*reads up to version ${STORE_FORMAT_VERSION}`));
  });

  it('refuses a store whose vector points past its messages, and says how to recover', async () => {
    const dir = tempDir();
    const store = LmdbStore.open(dir);
    for (let seq = 1; seq <= 3; seq++) await store.append(message('a', seq, seq));
    await store.close();
    // Damage it: the last message disappears while the vector still claims it.
    const raw = open({ path: join(dir, 'meshchat.mdb'), maxDbs: 8 });
    const messages = raw.openDB({ name: 'messages', keyEncoding: 'ordered-binary', encoding: 'msgpack' });
    messages.removeSync(['general', 'a', 3]);
    await raw.close();
    expect(() => LmdbStore.open(dir)).toThrow(
      /damaged: room "general" claims messages of a up to seq 3.*move the data directory aside/,
    );
  });

  it('reads a store of format 1, whose messages are msgpack maps, and appends to it', async () => {
    const dir = tempDir();
    const raw = open({ path: join(dir, 'meshchat.mdb'), maxDbs: 8 });
    const db = (name: string) => raw.openDB({ name, keyEncoding: 'ordered-binary', encoding: 'msgpack' });
    raw.putSync('formatVersion', 1);
    for (let seq = 1; seq <= 3; seq++) {
      const old = message('a', seq, seq * 10);
      db('messages').putSync(['general', 'a', seq], old);
      db('history').putSync(['general', old.hlc, 'a', seq], 1);
      db('dedupe').putSync([old.from.clientId, old.clientMsgId], ['general', 'a', seq]);
    }
    db('vectors').putSync(['general', 'a'], 3);
    await raw.close();

    const store = openLmdb(dir);
    await store.append(message('a', 4, 40));
    expect(store.latest('general', { limit: 10 }).messages).toEqual(
      [1, 2, 3, 4].map((seq) => message('a', seq, seq * 10)),
    );
    expect(store.after('general', { a: 2 })).toEqual([message('a', 3, 30), message('a', 4, 40)]);
    expect(store.findByClientMsgId('client-a', 'a-2')).toEqual({ room: 'general', origin: 'a', seq: 2 });
  });

  it('commits the appends of one burst together, settles them in order, and commits what is queued on close', async () => {
    const dir = tempDir();
    const first = LmdbStore.open(dir, { groupCommitMs: 50 });
    const settled: number[] = [];
    const appends = Array.from({ length: 200 }, (_, i) =>
      first.append(message('a', i + 1, i + 1)).then(() => settled.push(i + 1)),
    );
    // A resend during the commit is recognised already.
    expect(first.findByClientMsgId('client-a', 'a-200')).toEqual({ room: 'general', origin: 'a', seq: 200 });
    await first.close();
    await Promise.all(appends);
    expect(settled).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));

    const second = openLmdb(dir);
    expect(second.versionVector('general')).toEqual({ a: 200 });
  });

  it('refuses a file that is not a store, naming it, without crashing', () => {
    const dir = tempDir();
    const path = join(dir, 'meshchat.mdb');
    writeFileSync(path, Buffer.alloc(64 * 1024, 7));
    expect(() => LmdbStore.open(dir)).toThrow(`${path}: refusing to open the store: it is not an LMDB store`);
  });

  it('refuses a truncated store, naming it, without crashing', async () => {
    const dir = tempDir();
    const store = LmdbStore.open(dir);
    for (let seq = 1; seq <= 2000; seq++) void store.append(message('a', seq, seq));
    await store.append(message('a', 2001, 2001));
    await store.close();
    const path = join(dir, 'meshchat.mdb');
    truncateSync(path, 3 * 4096);
    expect(() => LmdbStore.open(dir)).toThrow(/refusing to open the store: it is truncated/);
  });
});
