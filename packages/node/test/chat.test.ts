import { MemoryStore } from '@meshchat/node';
import { type ChatMessage, encodeFrame, PROTOCOL_VERSION } from '@meshchat/protocol';
import { describe, expect, it } from 'vitest';
import {
  connectClient,
  framesOf,
  openRaw,
  RawConnection,
  rawJoin,
  rawSend,
  startNode,
  type TestClient,
  waitFor,
  waitForFrameWhere,
} from './helpers.js';
import { HeldCommitStore } from './test-stores.js';

/** A MemoryStore whose next append can be made to fail, like a disk that is full. */
class FailingStore extends MemoryStore {
  failNextAppend = false;

  override async append(message: ChatMessage): Promise<void> {
    if (this.failNextAppend) {
      this.failNextAppend = false;
      throw new Error('simulated commit failure');
    }
    return super.append(message);
  }
}

describe('connecting', () => {
  it('welcomes a client with the node id, its own identity, the limits and the node address', async () => {
    const node = await startNode({ limits: { maxMessageLength: 321 } });
    const raw = await RawConnection.open(node.address);
    raw.sendFrame({ type: 'hello', version: PROTOCOL_VERSION, nick: 'alice', clientId: 'c-alice' });
    const welcome = await raw.waitForFrame('welcome');
    expect(welcome).toMatchObject({
      version: PROTOCOL_VERSION,
      nodeId: node.nodeId,
      clientId: 'c-alice',
      nick: 'alice',
      servers: [node.address],
      limits: { maxMessageLength: 321 },
    });
    expect(welcome.sessionId.length).toBeGreaterThan(0);
  });

  it('answers a ping with a pong carrying the same nonce, before and after hello', async () => {
    const node = await startNode();
    const raw = await RawConnection.open(node.address);
    raw.sendFrame({ type: 'ping', nonce: 7 });
    await waitForFrameWhere(raw, 'pong', (f) => f.nonce === 7, 'pong 7');
    await raw.hello('alice');
    raw.sendFrame({ type: 'ping', nonce: 8 });
    await waitForFrameWhere(raw, 'pong', (f) => f.nonce === 8, 'pong 8');
  });

  it('frees a nick once its holder disconnects', async () => {
    const node = await startNode();
    const first = await connectClient(node.address, 'alice');
    await expect(connectClient(node.address, 'alice')).rejects.toMatchObject({ code: 'NICK_TAKEN' });
    await first.client.close();
    await waitFor(() => node.chat.sessionCount === 0, 'the node to forget the first alice');
    const second = await connectClient(node.address, 'Alice');
    expect(second.client.isConnected).toBe(true);
  });
});

describe('room messages', () => {
  it('delivers messages to everyone in the room with ids (room, origin = node, seq from 1) and increasing hlc', async () => {
    const node = await startNode();
    const alice = await connectClient(node.address, 'alice');
    const bob = await connectClient(node.address, 'bob');
    await alice.client.join('general');
    await bob.client.join('general');

    const plan = [alice, bob, alice, bob, alice];
    const acked = [];
    for (const [i, sender] of plan.entries()) acked.push((await sender.client.send('general', `m${i}`)).id);

    for (const receiver of [alice, bob]) {
      await waitFor(() => receiver.messages.length === plan.length, `${receiver.client.nick} to receive 5 messages`);
      expect(receiver.messages.map((m) => m.text)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
      expect(receiver.messages.map((m) => ({ room: m.room, origin: m.origin, seq: m.seq }))).toEqual(acked);
      expect(receiver.messages.map((m) => m.from)).toEqual(
        plan.map((s) => ({ clientId: s.client.clientId, nick: s.client.nick })),
      );
      const hlcs = receiver.messages.map((m) => m.hlc);
      for (let i = 1; i < hlcs.length; i++) expect(hlcs[i]).toBeGreaterThan(hlcs[i - 1] as number);
    }
    expect(acked).toEqual([1, 2, 3, 4, 5].map((seq) => ({ room: 'general', origin: node.nodeId, seq })));
  });

  it('acks the sender with the clientMsgId and the id the room members see', async () => {
    const node = await startNode();
    const bob = await connectClient(node.address, 'bob');
    await bob.client.join('general');
    const raw = await openRaw(node, 'alice');
    await rawJoin(raw, 'general');

    const ack = await rawSend(raw, 'general', 'hello bob', 'alice-1');
    expect(ack).toEqual({ type: 'ack', clientMsgId: 'alice-1', id: { room: 'general', origin: node.nodeId, seq: 1 } });
    await waitFor(() => bob.messages.length === 1, 'bob to receive the message');
    expect(bob.messages[0]).toMatchObject({
      ...ack.id,
      text: 'hello bob',
      clientMsgId: 'alice-1',
      from: { clientId: 'raw-alice', nick: 'alice' },
    });
    // The sender is a member too, and gets its own message before the ack.
    const ownCopy = framesOf(raw, 'message');
    expect(ownCopy).toHaveLength(1);
    expect(raw.frames.indexOf(ownCopy[0]!)).toBeLessThan(raw.frames.indexOf(ack));
  });

  it('counts seq per room: each room starts at 1', async () => {
    const node = await startNode();
    const alice = await connectClient(node.address, 'alice');
    await alice.client.join('one');
    await alice.client.join('two');
    expect((await alice.client.send('one', 'a')).id).toEqual({ room: 'one', origin: node.nodeId, seq: 1 });
    expect((await alice.client.send('one', 'b')).id).toEqual({ room: 'one', origin: node.nodeId, seq: 2 });
    expect((await alice.client.send('two', 'c')).id).toEqual({ room: 'two', origin: node.nodeId, seq: 1 });
  });

  it('stops delivering a room to a client that left it, while the others still get it', async () => {
    const node = await startNode();
    const alice = await connectClient(node.address, 'alice');
    const carol = await connectClient(node.address, 'carol');
    for (const room of ['general', 'side']) await alice.client.join(room);
    await carol.client.join('general');
    // bob is a raw socket: a ChatClient would itself drop messages of rooms it left.
    const bob = await openRaw(node, 'bob');
    await rawJoin(bob, 'general');
    await rawJoin(bob, 'side');
    await alice.client.send('general', 'before leave');
    await waitForFrameWhere(bob, 'message', (m) => m.text === 'before leave', 'bob to get "before leave"');

    bob.sendFrame({ type: 'leave', reqId: 5, room: 'general' });
    expect(await bob.waitForFrame('left')).toEqual({ type: 'left', reqId: 5, room: 'general' });
    await alice.client.send('general', 'after leave');
    // Frames from one node arrive in order: once bob has the later marker, the earlier
    // message would have arrived too if the node still delivered the room to him.
    await alice.client.send('side', 'marker');
    await waitForFrameWhere(bob, 'message', (m) => m.text === 'marker', 'bob to get the marker');
    expect(framesOf(bob, 'message').map((m) => m.text)).toEqual(['before leave', 'marker']);
    await waitFor(() => carol.messages.some((m) => m.text === 'after leave'), 'carol to get "after leave"');
  });

  it('delivers 10 clients x 100 messages exactly once to every client, in per-sender order', async () => {
    const node = await startNode();
    const senders = 10;
    const perSender = 100;
    const total = senders * perSender;
    const clients: TestClient[] = [];
    for (let i = 0; i < senders; i++) {
      const c = await connectClient(node.address, `user${i}`);
      await c.client.join('load');
      clients.push(c);
    }
    // A raw observer sees exactly what the node sends; ChatClient would hide duplicates.
    const observer = await openRaw(node, 'observer');
    await rawJoin(observer, 'load');

    const sends = clients.flatMap((c, i) =>
      Array.from({ length: perSender }, (_, n) => c.client.send('load', `${i}:${n}`)),
    );
    const acks = (await Promise.all(sends)).map((r) => r.id);
    expect(new Set(acks.map((id) => id.seq)).size).toBe(total);

    await waitFor(
      () => clients.every((c) => c.messages.length >= total) && framesOf(observer, 'message').length >= total,
      'every client to receive 1000 messages',
    );
    const receivers = [...clients.map((c) => c.messages), framesOf(observer, 'message')];
    for (const received of receivers) {
      expect(received).toHaveLength(total);
      // Exactly once, and in seq order without gaps: seq i+1 is the (i+1)-th delivered.
      expect(received.map((m) => m.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      expect(received.every((m) => m.room === 'load' && m.origin === node.nodeId)).toBe(true);
      for (let s = 0; s < senders; s++) {
        const fromSender = received.filter((m) => m.from.nick === `user${s}`).map((m) => m.text);
        expect(fromSender).toEqual(Array.from({ length: perSender }, (_, n) => `${s}:${n}`));
      }
    }
    const observed = framesOf(observer, 'message');
    for (let i = 1; i < observed.length; i++) expect(observed[i]!.hlc).toBeGreaterThan(observed[i - 1]!.hlc);
  });

  it('acks a resend with the same clientMsgId with the original id and does not deliver it again', async () => {
    const node = await startNode();
    const observer = await openRaw(node, 'observer');
    await rawJoin(observer, 'general');
    const alice = await openRaw(node, 'alice');
    await rawJoin(alice, 'general');

    // A resend while the first copy is still being committed (same chunk)...
    const send = { type: 'send', room: 'general', text: 'only once', clientMsgId: 'dup-1' };
    alice.sendBytes(Buffer.concat([encodeFrame(send), encodeFrame(send)]));
    await waitFor(() => framesOf(alice, 'ack').length === 2, 'two acks for dup-1');
    // ...and one after it was acked.
    alice.sendFrame(send);
    await waitFor(() => framesOf(alice, 'ack').length === 3, 'a third ack for dup-1');
    const acks = framesOf(alice, 'ack');
    const id = { room: 'general', origin: node.nodeId, seq: 1 };
    expect(acks).toEqual([0, 1, 2].map(() => ({ type: 'ack', clientMsgId: 'dup-1', id })));

    await rawSend(alice, 'general', 'next', 'next-1');
    await waitForFrameWhere(observer, 'message', (m) => m.clientMsgId === 'next-1', 'the observer to get "next"');
    expect(framesOf(observer, 'message').map((m) => [m.clientMsgId, m.seq])).toEqual([
      ['dup-1', 1],
      ['next-1', 2],
    ]);
  });

  it('acks a resend of a message still being committed only once the commit is done', async () => {
    const store = new HeldCommitStore();
    const node = await startNode({}, { store });
    const alice = await openRaw(node, 'alice');
    await rawJoin(alice, 'general');
    const send = { type: 'send', room: 'general', text: 'durable first', clientMsgId: 'held-1' };
    alice.sendFrame(send);
    await waitFor(() => store.heldCount === 1, 'the first copy to reach the store');
    alice.sendFrame(send);
    // The resend has surely been handled once a ping sent after it is answered.
    alice.sendFrame({ type: 'ping', nonce: 7 });
    await waitForFrameWhere(alice, 'pong', (p) => p.nonce === 7, 'the pong after the resend');
    expect(framesOf(alice, 'ack')).toEqual([]);
    store.commitAll();
    await waitFor(() => framesOf(alice, 'ack').length === 2, 'both acks after the commit');
    expect(store.heldCount).toBe(0);
  });

  it('acks a resend from a new connection of the same client with the original id, and delivers it once', async () => {
    const node = await startNode();
    const observer = await openRaw(node, 'observer');
    await rawJoin(observer, 'general');
    const first = await openRaw(node, 'alice', 'c-alice');
    await rawJoin(first, 'general');
    const original = await rawSend(first, 'general', 'sent before the reconnect', 'm-1');

    // The client reconnects (replacing its old session) and resends what it had not seen acked.
    const second = await openRaw(node, 'alice', 'c-alice');
    await rawJoin(second, 'general');
    expect(await rawSend(second, 'general', 'sent before the reconnect', 'm-1')).toEqual(original);
    await rawSend(second, 'general', 'after the reconnect', 'm-2');
    await waitForFrameWhere(observer, 'message', (m) => m.clientMsgId === 'm-2', 'the observer to get m-2');
    expect(framesOf(observer, 'message').map((m) => [m.clientMsgId, m.seq])).toEqual([
      ['m-1', 1],
      ['m-2', 2],
    ]);
  });

  it('keeps a room usable after a message fails to commit: the next one is stored and acked', async () => {
    const store = new FailingStore();
    const node = await startNode({}, { store });
    const alice = await connectClient(node.address, 'alice');
    const bob = await connectClient(node.address, 'bob');
    await alice.client.join('general');
    await bob.client.join('general');
    expect((await alice.client.send('general', 'one')).id.seq).toBe(1);

    store.failNextAppend = true;
    await expect(alice.client.send('general', 'lost')).rejects.toMatchObject({ code: 'INTERNAL' });
    const { id } = await alice.client.send('general', 'two');
    expect(id.seq).toBe(2);
    await waitFor(() => bob.messages.length === 2, 'bob to receive both stored messages');
    expect(bob.messages.map((m) => [m.text, m.seq])).toEqual([
      ['one', 1],
      ['two', 2],
    ]);
  });

  it('tells connected clients SHUTTING_DOWN and closes them when the node stops', async () => {
    const node = await startNode();
    const raw = await openRaw(node, 'alice');
    await node.stop();
    expect(await raw.waitForFrame('error')).toMatchObject({ code: 'SHUTTING_DOWN', fatal: true });
    await raw.waitForClose();
  });
});

describe('direct messages', () => {
  it('delivers a DM by nick and resolves the sender with an id in the inbox room "@<recipient clientId>"', async () => {
    const node = await startNode();
    const alice = await connectClient(node.address, 'alice');
    const bob = await connectClient(node.address, 'bob');

    const first = await alice.client.dm('bob', 'psst');
    const second = await alice.client.dm('BOB', 'nicks ignore case');
    const inbox = `@${bob.client.clientId}`;
    expect(first.id).toEqual({ room: inbox, origin: node.nodeId, seq: 1 });
    expect(second.id).toEqual({ room: inbox, origin: node.nodeId, seq: 2 });

    await waitFor(() => bob.directs.length === 2, 'bob to receive two DMs');
    expect(bob.directs[0]).toMatchObject({
      id: first.id,
      from: { clientId: alice.client.clientId, nick: 'alice' },
      to: 'bob',
      text: 'psst',
    });
    expect(bob.directs[1]).toMatchObject({ id: second.id, to: 'bob', text: 'nicks ignore case' });
    expect(bob.directs[1]!.hlc).toBeGreaterThan(bob.directs[0]!.hlc);
    expect(alice.directs).toEqual([]);
  });

  it('acks a resent DM with the original id and delivers it once', async () => {
    const node = await startNode();
    const bob = await openRaw(node, 'bob');
    const alice = await openRaw(node, 'alice');
    const dm = { type: 'dm', to: 'bob', text: 'psst', clientMsgId: 'dm-1' };
    alice.sendBytes(Buffer.concat([encodeFrame(dm), encodeFrame(dm)]));
    await waitFor(() => framesOf(alice, 'ack').length === 2, 'two acks');
    alice.sendFrame(dm);
    await waitFor(() => framesOf(alice, 'ack').length === 3, 'a third ack');
    const ids = framesOf(alice, 'ack').map((a) => a.id);
    expect(ids).toEqual([0, 1, 2].map(() => ({ room: '@raw-bob', origin: node.nodeId, seq: 1 })));

    alice.sendFrame({ type: 'dm', to: 'bob', text: 'next', clientMsgId: 'dm-2' });
    await waitForFrameWhere(bob, 'direct', (d) => d.clientMsgId === 'dm-2', 'bob to get the next DM');
    expect(framesOf(bob, 'direct').map((d) => [d.clientMsgId, d.id.seq])).toEqual([
      ['dm-1', 1],
      ['dm-2', 2],
    ]);
  });

  it('rejects a DM to a nick nobody uses with NO_SUCH_USER, also once the user has left', async () => {
    const node = await startNode();
    const alice = await connectClient(node.address, 'alice');
    await expect(alice.client.dm('ghost', 'hello?')).rejects.toMatchObject({ code: 'NO_SUCH_USER' });

    const bob = await connectClient(node.address, 'bob');
    await alice.client.join('general');
    await bob.client.join('general');
    await alice.client.dm('bob', 'hi');
    await bob.client.close();
    await waitFor(() => alice.presence.some((p) => p.event === 'left'), 'alice to see bob leave');
    await expect(alice.client.dm('bob', 'still there?')).rejects.toMatchObject({ code: 'NO_SUCH_USER' });
    expect(alice.client.isConnected).toBe(true);
  });

  it("refuses to join or read another user's DM inbox room", async () => {
    const node = await startNode();
    const bob = await connectClient(node.address, 'bob');
    const alice = await connectClient(node.address, 'alice');
    await alice.client.dm('bob', 'secret');
    const inbox = `@${bob.client.clientId}`;
    await expect(alice.client.join(inbox)).rejects.toMatchObject({ code: 'INVALID_ROOM' });
    await expect(alice.client.history(inbox)).rejects.toMatchObject({ code: 'INVALID_ROOM' });
  });
});

describe('presence, rooms and who', () => {
  it('tells room members when someone joins, leaves or disconnects, but not the subject itself', async () => {
    const node = await startNode();
    const alice = await connectClient(node.address, 'alice');
    await alice.client.join('general');
    const bob = await connectClient(node.address, 'bob');
    const carol = await connectClient(node.address, 'carol');
    const member = (c: typeof bob) => ({ clientId: c.client.clientId, nick: c.client.nick, nodeId: node.nodeId });

    await bob.client.join('general');
    await bob.client.leave('general');
    await carol.client.join('general');
    await carol.client.close();

    const expected = [
      { room: 'general', event: 'joined', member: member(bob) },
      { room: 'general', event: 'left', member: member(bob) },
      { room: 'general', event: 'joined', member: member(carol) },
      { room: 'general', event: 'left', member: member(carol) },
    ];
    await waitFor(() => alice.presence.length === expected.length, 'alice to see four presence events');
    expect(alice.presence).toEqual(expected);
    // bob saw carol arrive? No: he had left. He saw nothing about himself either.
    expect(bob.presence).toEqual([]);
  });

  it('keeps one membership and announces it once when a client joins a room it is in', async () => {
    const node = await startNode();
    const alice = await connectClient(node.address, 'alice');
    await alice.client.join('general');
    const bob = await openRaw(node, 'bob');
    await rawJoin(bob, 'general');
    const again = await rawJoin(bob, 'general');
    expect(again.members.map((m) => m.nick).sort()).toEqual(['alice', 'bob']);
    expect(await alice.client.who('general')).toHaveLength(2);
    await alice.client.send('general', 'once');
    await waitForFrameWhere(bob, 'message', (m) => m.text === 'once', 'bob to get the message');
    expect(framesOf(bob, 'message')).toHaveLength(1);
    expect(alice.presence.map((p) => [p.event, p.member.nick])).toEqual([['joined', 'bob']]);
  });

  it('lists rooms with member counts and who is in a room, and forgets a client that disconnects', async () => {
    const node = await startNode();
    const alice = await connectClient(node.address, 'alice');
    const bob = await connectClient(node.address, 'bob');
    await alice.client.join('beta');
    await alice.client.join('alpha');
    const joined = await bob.client.join('beta');
    expect(joined.members.map((m) => m.nick).sort()).toEqual(['alice', 'bob']);

    expect(await alice.client.rooms()).toEqual([
      { name: 'alpha', members: 1 },
      { name: 'beta', members: 2 },
    ]);
    const who = await alice.client.who('beta');
    expect(who.sort((a, b) => a.nick.localeCompare(b.nick))).toEqual([
      { clientId: alice.client.clientId, nick: 'alice', nodeId: node.nodeId },
      { clientId: bob.client.clientId, nick: 'bob', nodeId: node.nodeId },
    ]);
    expect(await alice.client.who('empty-room')).toEqual([]);

    await bob.client.close();
    await waitFor(async () => (await alice.client.who('beta')).length === 1, 'bob to be gone from beta');
    await alice.client.leave('alpha');
    expect(await alice.client.rooms()).toEqual([{ name: 'beta', members: 1 }]);
  });
});

describe('history', () => {
  it('returns the last historyOnJoin messages on join, oldest first, and the room cursor', async () => {
    const node = await startNode({ historyOnJoin: 3 });
    const alice = await connectClient(node.address, 'alice');
    await alice.client.join('general');
    for (let i = 1; i <= 5; i++) await alice.client.send('general', `m${i}`);

    const bob = await connectClient(node.address, 'bob');
    const { history } = await bob.client.join('general');
    expect(history.map((m) => [m.text, m.seq])).toEqual([
      ['m3', 3],
      ['m4', 4],
      ['m5', 5],
    ]);
    const raw = await openRaw(node, 'carol');
    const joined = await rawJoin(raw, 'general');
    expect(joined.history.map((m) => m.text)).toEqual(['m3', 'm4', 'm5']);
    expect(joined.cursor).toEqual({ [node.nodeId]: 5 });
  });

  it('returns an empty history and cursor when joining a new room', async () => {
    const node = await startNode();
    const raw = await openRaw(node, 'alice');
    const joined = await rawJoin(raw, 'fresh');
    expect(joined).toMatchObject({ room: 'fresh', history: [], cursor: {} });
    expect(joined.members).toEqual([{ clientId: 'raw-alice', nick: 'alice', nodeId: node.nodeId }]);
  });

  it('pages history backwards with before and limit, with hasMore telling whether older messages exist', async () => {
    const node = await startNode();
    const alice = await connectClient(node.address, 'alice');
    await alice.client.join('general');
    for (let i = 1; i <= 7; i++) await alice.client.send('general', `m${i}`);

    const page1 = await alice.client.history('general', { limit: 3 });
    expect(page1.messages.map((m) => m.text)).toEqual(['m5', 'm6', 'm7']);
    expect(page1.hasMore).toBe(true);
    const page2 = await alice.client.history('general', { before: page1.messages[0]!, limit: 3 });
    expect(page2.messages.map((m) => m.text)).toEqual(['m2', 'm3', 'm4']);
    expect(page2.hasMore).toBe(true);
    const page3 = await alice.client.history('general', { before: page2.messages[0]!, limit: 3 });
    expect(page3.messages.map((m) => m.text)).toEqual(['m1']);
    expect(page3.hasMore).toBe(false);

    const all = await alice.client.history('general', { limit: 7 });
    expect(all.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(all.hasMore).toBe(false);
    expect(await alice.client.history('nothing-here', { limit: 5 })).toEqual({ messages: [], hasMore: false });
  });

  it('pages a long catch-up: complete is false until the last page, and only then is the session in the room', async () => {
    const node = await startNode({ limits: { maxMessageLength: 30_000 } });
    const alice = await connectClient(node.address, 'alice');
    await alice.client.join('general');
    // Long messages, so the catch-up needs several replies (a reply holds about 256 KiB).
    for (let i = 1; i <= 12; i++) await alice.client.send('general', `m${i}`.padEnd(30_000, '.'));

    const bob = await openRaw(node, 'bob');
    let cursor: Record<string, number> = {};
    const replayed: number[] = [];
    let pages = 0;
    for (;;) {
      const joined = await rawJoin(bob, 'general', cursor);
      pages++;
      replayed.push(...joined.history.map((m) => m.seq));
      cursor = joined.cursor;
      if (joined.complete) break;
      expect(joined.members.map((m) => m.nick)).toEqual(['alice']);
      expect(joined.history.length).toBeGreaterThan(0);
    }
    expect(pages).toBeGreaterThan(1);
    expect(replayed).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(cursor).toEqual({ [node.nodeId]: 12 });

    await alice.client.send('general', 'live');
    await waitForFrameWhere(bob, 'message', (m) => m.text === 'live', 'bob to get the live message');
    expect(framesOf(bob, 'message').map((m) => m.seq)).toEqual([13]);
  });

  it('cuts a history page that does not fit one reply to its newest messages, with hasMore', async () => {
    const node = await startNode({ limits: { maxMessageLength: 30_000 } });
    const alice = await connectClient(node.address, 'alice');
    await alice.client.join('general');
    for (let i = 1; i <= 6; i++) await alice.client.send('general', `m${i}`.padEnd(30_000, '.'));

    const page = await alice.client.history('general', { limit: 6 });
    expect(page.hasMore).toBe(true);
    expect(page.messages.length).toBeGreaterThan(0);
    expect(page.messages.length).toBeLessThan(6);
    const seqs = page.messages.map((m) => m.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => 7 - seqs.length + i));
  });

  it('replays only the messages newer than the cursor on a join with a cursor, however many', async () => {
    const node = await startNode({ historyOnJoin: 2 });
    const alice = await connectClient(node.address, 'alice');
    await alice.client.join('general');
    for (let i = 1; i <= 6; i++) await alice.client.send('general', `m${i}`);

    const raw = await openRaw(node, 'bob');
    const resumed = await rawJoin(raw, 'general', { [node.nodeId]: 2, 'some-other-node': 9 });
    expect(resumed.history.map((m) => m.text)).toEqual(['m3', 'm4', 'm5', 'm6']);
    expect(resumed.cursor).toEqual({ [node.nodeId]: 6 });

    const other = await openRaw(node, 'carol');
    const fromScratch = await rawJoin(other, 'general', {});
    expect(fromScratch.history.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    const upToDate = await rawJoin(other, 'general', { [node.nodeId]: 6 });
    expect(upToDate.history).toEqual([]);
  });
});
