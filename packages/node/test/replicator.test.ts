import { MemoryStore } from '@meshchat/node';
import type { ChatMessage } from '@meshchat/protocol';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Replicator } from '../src/replication/replicator.js';
import type { AppendEntry } from '../src/store/message-store.js';

const message = (origin: string, seq: number, clientMsgId = `${origin}-${seq}`, room = 'general'): ChatMessage => ({
  room,
  origin,
  seq,
  hlc: seq * 10,
  from: { clientId: 'alice', nick: 'alice' },
  text: `${origin}#${seq}`,
  clientMsgId,
  sentAt: seq * 10,
});

const idOf = (m: ChatMessage) => `${m.origin}#${m.seq}`;
const batch = (...messages: ChatMessage[]) => ({ type: 'sync_batch' as const, floors: [], messages });

/** A MemoryStore whose batch appends are counted, and made to fail on demand. */
class CountingStore extends MemoryStore {
  appendBatches: number[] = [];
  failNext = false;

  override appendBatch(entries: readonly AppendEntry[]): Promise<void> {
    this.appendBatches.push(entries.length);
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new Error('disk full'));
    }
    return super.appendBatch(entries);
  }
}

function replicator() {
  const store = new CountingStore();
  const delivered: string[] = [];
  const stored: string[] = [];
  const syncRequests: string[] = [];
  const replicas = new Replicator({
    nodeId: 'node-c',
    store,
    deliver: (m) => delivered.push(idOf(m)),
    // As the node wires it: inbox rooms (direct messages) start with '@'.
    showsBeforeCommit: (room) => !room.startsWith('@'),
    onStored: (_from, m) => stored.push(idOf(m)),
    requestSync: (nodeId) => syncRequests.push(nodeId),
    log: pino({ level: 'silent' }),
  });
  const settled = () => new Promise((resolve) => setImmediate(resolve));
  return { store, replicas, delivered, stored, syncRequests, settled };
}

describe('Replicator', () => {
  it('shows room messages at once, in seq order, appends a whole batch with one append, and acks them once committed', async () => {
    const { store, replicas, delivered, stored, settled } = replicator();
    replicas.receiveBatch('node-a', batch(message('a', 1), message('a', 2), message('b', 1), message('a', 3)));
    expect(delivered).toEqual(['a#1', 'a#2', 'b#1', 'a#3']);
    expect(replicas.shownBeforeCommit('general').map(({ message }) => idOf(message))).toEqual(delivered);
    expect(stored).toEqual([]);
    await settled();
    expect(store.appendBatches).toEqual([4]);
    expect(stored).toEqual(['a#1', 'a#2', 'b#1', 'a#3']);
    expect(replicas.shownBeforeCommit('general')).toEqual([]);
    expect(store.versionVector('general')).toEqual({ a: 3, b: 1 });
  });

  it('delivers a direct message only once it is committed here', async () => {
    const { replicas, delivered, settled } = replicator();
    replicas.receive('node-a', message('a', 1, 'dm-1', '@bob'));
    expect(delivered).toEqual([]);
    expect(replicas.shownBeforeCommit('@bob')).toEqual([]);
    await settled();
    expect(delivered).toEqual(['a#1']);
  });

  it('takes a second copy of a client message in the same batch as an alias: stored, counted, not delivered', async () => {
    const { store, replicas, delivered, stored, settled } = replicator();
    replicas.receiveBatch('node-a', batch(message('a', 1, 'resent'), message('b', 1, 'resent'), message('b', 2)));
    await settled();
    expect(delivered).toEqual(['a#1', 'b#2']);
    expect(stored).toEqual(['a#1', 'b#1', 'b#2']);
    expect(store.versionVector('general')).toEqual({ a: 1, b: 2 });
    expect(store.latest('general', { limit: 10 }).messages.map(idOf)).toEqual(['a#1', 'b#2']);
    expect(store.findByClientMsgId('alice', 'resent')).toEqual({ room: 'general', origin: 'a', seq: 1 });
  });

  it('holds back what follows a gap and asks for the gap; the next batch releases both in order, in one append', async () => {
    const { store, replicas, delivered, syncRequests, settled } = replicator();
    replicas.receiveBatch('node-a', batch(message('a', 1), message('a', 3), message('a', 4)));
    await settled();
    expect(delivered).toEqual(['a#1']);
    expect(replicas.heldBack).toBe(2);
    expect(syncRequests).toEqual(['node-a', 'node-a']);
    replicas.receive('node-b', message('a', 2));
    await settled();
    expect(store.appendBatches).toEqual([1, 3]);
    expect(delivered).toEqual(['a#1', 'a#2', 'a#3', 'a#4']);
    expect(replicas.heldBack).toBe(0);
  });

  it('shows a room message once even when its commit failed and it comes again; a direct message only once committed', async () => {
    const { store, replicas, delivered, stored, settled } = replicator();
    store.failNext = true;
    replicas.receiveBatch('node-a', batch(message('a', 1), message('a', 2)));
    expect(delivered).toEqual(['a#1', 'a#2']);
    await settled();
    expect(stored).toEqual([]);
    expect(replicas.shownBeforeCommit('general')).toEqual([]);
    expect(store.versionVector('general')).toEqual({});
    replicas.receiveBatch('node-a', batch(message('a', 1), message('a', 2)));
    await settled();
    expect(delivered).toEqual(['a#1', 'a#2']);
    expect(stored).toEqual(['a#1', 'a#2']);

    store.failNext = true;
    replicas.receive('node-a', message('a', 1, 'dm-1', '@bob'));
    await settled();
    expect(delivered).toEqual(['a#1', 'a#2']);
    replicas.receive('node-a', message('a', 1, 'dm-1', '@bob'));
    await settled();
    expect(delivered).toEqual(['a#1', 'a#2', 'a#1']);
  });

  it('drops what it already holds, live or in a batch', async () => {
    const { store, replicas, delivered, settled } = replicator();
    replicas.receive('node-a', message('a', 1));
    replicas.receiveBatch('node-b', batch(message('a', 1), message('a', 2)));
    replicas.receive('node-a', message('a', 2));
    await settled();
    expect(store.appendBatches).toEqual([1, 1]);
    expect(delivered).toEqual(['a#1', 'a#2']);
  });
});
