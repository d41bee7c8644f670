import type { ChatMessage } from '@meshchat/protocol';
import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../src/chat/token-bucket.js';
import { MemoryStore } from '../src/store/memory-store.js';

// A history position just before every message of that hlc.
const at = (hlc: number) => ({ hlc, origin: '', seq: 0 });

const T0 = 1_750_000_000_000 * 1024;

/** A message of `origin` with the given seq and hlc; text and clientMsgId derive from them. */
function msg(origin: string, seq: number, hlc: number, room = 'general', clientId = `client-${origin}`): ChatMessage {
  return {
    room,
    origin,
    seq,
    hlc: T0 + hlc,
    from: { clientId, nick: 'nick' },
    text: `${origin}#${seq}`,
    clientMsgId: `${origin}-${room}-${seq}`,
    sentAt: 1_750_000_000_000,
  };
}

const texts = (messages: ChatMessage[]) => messages.map((m) => m.text);

/** A store holding a#1..a#3 and b#1..b#2, interleaved in hlc order a1 b1 a2 b2 a3. */
async function interleavedStore(): Promise<MemoryStore> {
  const store = new MemoryStore();
  for (const m of [msg('a', 1, 10), msg('b', 1, 20), msg('a', 2, 30), msg('b', 2, 40), msg('a', 3, 50)]) {
    await store.append(m);
  }
  return store;
}

describe('MemoryStore', () => {
  it('appends each (room, origin) contiguously from seq 1 and refuses gaps and repeats', async () => {
    const store = new MemoryStore();
    await expect(store.append(msg('a', 2, 1))).rejects.toThrow(/out of order/);
    await store.append(msg('a', 1, 1));
    await expect(store.append(msg('a', 1, 2))).rejects.toThrow(/out of order/);
    await expect(store.append(msg('a', 3, 3))).rejects.toThrow(/out of order/);
    await store.append(msg('a', 2, 4));
    // Other origins and rooms count on their own.
    await store.append(msg('b', 1, 5));
    await store.append(msg('a', 1, 6, 'other'));
    expect(store.highestSeq('general', 'a')).toBe(2);
    expect(store.highestSeq('general', 'b')).toBe(1);
    expect(store.highestSeq('other', 'a')).toBe(1);
    expect(store.highestSeq('general', 'c')).toBe(0);
    expect(store.highestSeq('nowhere', 'a')).toBe(0);
    expect(texts(store.latest('general', { limit: 10 }).messages)).toEqual(['a#1', 'a#2', 'b#1']);
  });

  it('keeps a version vector per room: origin -> highest contiguous seq', async () => {
    const store = await interleavedStore();
    await store.append(msg('c', 1, 60, 'other'));
    expect(store.versionVector('general')).toEqual({ a: 3, b: 2 });
    expect(store.versionVector('other')).toEqual({ c: 1 });
    expect(store.versionVector('empty')).toEqual({});
    expect(store.rooms().sort()).toEqual(['general', 'other']);
  });

  it('returns the newest messages oldest first, with hasMore when older ones exist', async () => {
    const store = await interleavedStore();
    expect(store.latest('general', { limit: 2 })).toEqual({
      messages: [msg('b', 2, 40), msg('a', 3, 50)],
      hasMore: true,
    });
    expect(store.latest('general', { limit: 5 })).toMatchObject({ hasMore: false });
    expect(texts(store.latest('general', { limit: 5 }).messages)).toEqual(['a#1', 'b#1', 'a#2', 'b#2', 'a#3']);
    expect(store.latest('general', { limit: 50 }).hasMore).toBe(false);
    expect(store.latest('empty', { limit: 5 })).toEqual({ messages: [], hasMore: false });
  });

  it('pages back with before: only messages with an hlc strictly below it', async () => {
    const store = await interleavedStore();
    const page = store.latest('general', { before: at(T0 + 40), limit: 2 });
    expect(texts(page.messages)).toEqual(['b#1', 'a#2']);
    expect(page.hasMore).toBe(true);
    const last = store.latest('general', { before: at(T0 + 20), limit: 2 });
    expect(texts(last.messages)).toEqual(['a#1']);
    expect(last.hasMore).toBe(false);
    // A before between two hlcs, and one past the newest.
    expect(texts(store.latest('general', { before: at(T0 + 35), limit: 1 }).messages)).toEqual(['a#2']);
    expect(texts(store.latest('general', { before: at(T0 + 999), limit: 1 }).messages)).toEqual(['a#3']);
    expect(store.latest('general', { before: at(T0 + 10), limit: 3 })).toEqual({ messages: [], hasMore: false });
  });

  it('orders history by hlc even when a message arrives after newer ones (replicated late)', async () => {
    const store = new MemoryStore();
    await store.append(msg('a', 1, 10));
    await store.append(msg('a', 2, 30));
    await store.append(msg('b', 1, 20));
    expect(texts(store.latest('general', { limit: 10 }).messages)).toEqual(['a#1', 'b#1', 'a#2']);
    expect(texts(store.after('general', {}))).toEqual(['a#1', 'b#1', 'a#2']);
  });

  it('returns every message after a cursor, per origin, in hlc order', async () => {
    const store = await interleavedStore();
    expect(texts(store.after('general', {}))).toEqual(['a#1', 'b#1', 'a#2', 'b#2', 'a#3']);
    expect(texts(store.after('general', { a: 1 }))).toEqual(['b#1', 'a#2', 'b#2', 'a#3']);
    expect(texts(store.after('general', { a: 2, b: 2 }))).toEqual(['a#3']);
    expect(texts(store.after('general', { a: 3, b: 2 }))).toEqual([]);
    // Origins the store does not know, and seqs beyond what it holds, are harmless.
    expect(texts(store.after('general', { a: 9, b: 1, zed: 4 }))).toEqual(['b#2']);
    expect(store.after('empty', { a: 1 })).toEqual([]);
  });

  it("finds the id a client's message was given by (clientId, clientMsgId)", async () => {
    const store = new MemoryStore();
    await store.append(msg('a', 1, 1, 'general', 'alice'));
    await store.append(msg('a', 1, 2, 'other', 'alice'));
    expect(store.findByClientMsgId('alice', 'a-general-1')).toEqual({ room: 'general', origin: 'a', seq: 1 });
    expect(store.findByClientMsgId('alice', 'a-other-1')).toEqual({ room: 'other', origin: 'a', seq: 1 });
    // The clientMsgId is scoped to its client.
    expect(store.findByClientMsgId('bob', 'a-general-1')).toBeUndefined();
    expect(store.findByClientMsgId('alice', 'never-sent')).toBeUndefined();
  });

  it('does not record a refused append', async () => {
    const store = new MemoryStore();
    await expect(store.append(msg('a', 2, 1, 'general', 'alice'))).rejects.toThrow();
    expect(store.findByClientMsgId('alice', 'a-general-2')).toBeUndefined();
    expect(store.versionVector('general')).toEqual({});
    expect(store.latest('general', { limit: 5 }).messages).toEqual([]);
  });
});

describe('TokenBucket', () => {
  function bucketAt(ratePerSec: number, burst: number) {
    const clock = { now: 1_000_000 };
    const bucket = new TokenBucket(ratePerSec, burst, () => clock.now);
    const takeAll = () => {
      let taken = 0;
      while (bucket.tryTake()) taken++;
      return taken;
    };
    return { clock, bucket, takeAll };
  }

  it('starts full: burst tokens can be taken at once, then none', () => {
    const { bucket, takeAll } = bucketAt(10, 5);
    expect(takeAll()).toBe(5);
    expect(bucket.tryTake()).toBe(false);
  });

  it('refills ratePerSec tokens a second', () => {
    const { clock, takeAll } = bucketAt(10, 5);
    takeAll();
    clock.now += 100;
    expect(takeAll()).toBe(1);
    clock.now += 300;
    expect(takeAll()).toBe(3);
  });

  it('keeps fractions of a token between takes', () => {
    const { clock, bucket, takeAll } = bucketAt(4, 2);
    takeAll();
    clock.now += 125;
    expect(bucket.tryTake()).toBe(false);
    clock.now += 125;
    expect(takeAll()).toBe(1);
  });

  it('never saves up more than burst', () => {
    const { clock, takeAll } = bucketAt(100, 3);
    takeAll();
    clock.now += 60_000;
    expect(takeAll()).toBe(3);
  });

  it('gives nothing while the clock stands still or steps back', () => {
    const { clock, bucket, takeAll } = bucketAt(10, 2);
    takeAll();
    expect(bucket.tryTake()).toBe(false);
    clock.now -= 5_000;
    expect(bucket.tryTake()).toBe(false);
    clock.now += 5_000;
    expect(bucket.tryTake()).toBe(false);
    clock.now += 100;
    expect(takeAll()).toBe(1);
  });
});
