import { encodeFrame, PROTOCOL_VERSION } from '@meshchat/protocol';
import { describe, expect, it } from 'vitest';
import { logsOf, startLoggedNode } from '../../../test/harness/index.js';
import {
  connectBystanders,
  connectClient,
  expectChatCarriesOn,
  expectFatalError,
  floodUntilLeft,
  framesOf,
  openRaw,
  RawConnection,
  rawJoin,
  startNode,
  type TestNode,
  waitFor,
  waitForFrameWhere,
} from './helpers.js';

describe('rate limit', () => {
  // One token a second: nothing refills while a burst written in one chunk is handled.
  const limits = { ratePerSec: 1, rateBurst: 5 };

  it('acks the first rateBurst frames of a burst and answers the rest with non-fatal RATE_LIMITED naming each clientMsgId', async () => {
    const node = await startNode({ limits });
    const bob = await connectClient(node.address, 'bob');
    await bob.client.join('general');
    const flooder = await openRaw(node, 'flooder');

    // The join takes a token too: the bucket counts every frame after hello.
    const ids = Array.from({ length: 10 }, (_, i) => `f${i}`);
    flooder.sendBytes(
      Buffer.concat([
        encodeFrame({ type: 'join', reqId: 1, room: 'general' }),
        ...ids.map((clientMsgId) => encodeFrame({ type: 'send', room: 'general', text: clientMsgId, clientMsgId })),
      ]),
    );
    await waitFor(
      () => framesOf(flooder, 'ack').length + framesOf(flooder, 'error').length === ids.length,
      'an ack or an error for every send',
    );
    const accepted = ids.slice(0, limits.rateBurst - 1);
    const limited = ids.slice(limits.rateBurst - 1);
    expect(framesOf(flooder, 'joined')).toHaveLength(1);
    expect(framesOf(flooder, 'ack').map((a) => [a.clientMsgId, a.id.seq])).toEqual(
      accepted.map((id, i) => [id, i + 1]),
    );
    expect(framesOf(flooder, 'error').map((e) => [e.code, e.fatal, e.clientMsgId])).toEqual(
      limited.map((id) => ['RATE_LIMITED', false, id]),
    );
    expect(framesOf(flooder, 'error')[0]?.message).toMatch(/1 frames\/s.*burst 5/);

    // Pings are not rate limited: the connection is open and answers.
    flooder.sendFrame({ type: 'ping', nonce: 99 });
    await waitForFrameWhere(flooder, 'pong', (p) => p.nonce === 99, 'a pong while rate limited');
    expect(flooder.isClosed).toBe(false);

    // Other clients have their own bucket and received exactly the accepted messages.
    await waitFor(() => bob.messages.length === accepted.length, 'bob to receive the accepted messages');
    const { id } = await bob.client.send('general', 'bob is fine');
    expect(id.seq).toBe(accepted.length + 1);
    await waitFor(() => bob.messages.length === accepted.length + 1, 'bob to receive his own message');
    expect(bob.messages.map((m) => m.text)).toEqual([...accepted, 'bob is fine']);
  });

  it('acks exactly rateBurst direct messages of a burst and delivers only those', async () => {
    const node = await startNode({ limits });
    const bob = await connectClient(node.address, 'bob');
    const flooder = await openRaw(node, 'flooder');
    const ids = Array.from({ length: 8 }, (_, i) => `d${i}`);
    flooder.sendBytes(
      Buffer.concat(ids.map((clientMsgId) => encodeFrame({ type: 'dm', to: 'bob', text: clientMsgId, clientMsgId }))),
    );
    await waitFor(
      () => framesOf(flooder, 'ack').length + framesOf(flooder, 'error').length === ids.length,
      'an ack or an error for every DM',
    );
    expect(framesOf(flooder, 'ack').map((a) => a.clientMsgId)).toEqual(ids.slice(0, limits.rateBurst));
    expect(framesOf(flooder, 'error').map((e) => [e.code, e.clientMsgId])).toEqual(
      ids.slice(limits.rateBurst).map((id) => ['RATE_LIMITED', id]),
    );
    await waitFor(() => bob.directs.length === limits.rateBurst, 'bob to receive the accepted DMs');
    expect(bob.directs.map((d) => d.text)).toEqual(ids.slice(0, limits.rateBurst));
  });
});

describe('slow consumer', () => {
  it('disconnects a client that stops reading once its outbound buffer passes maxOutboundBytes, and the others keep receiving', async () => {
    const maxOutboundBytes = 256 * 1024;
    const node = await startNode({
      limits: { maxOutboundBytes, maxMessageLength: 8000, ratePerSec: 100_000, rateBurst: 100_000 },
    });
    const sender = await connectClient(node.address, 'sender');
    const reader = await connectClient(node.address, 'reader');
    await sender.client.join('flood');
    await reader.client.join('flood');
    const slow = await openRaw(node, 'slow');
    await rawJoin(slow, 'flood');
    slow.pause();

    await floodUntilLeft(sender, reader, 'flood', 'slow');
    // The node dropped the session (its room saw it leave) while the reader kept up.
    expect(reader.client.isConnected).toBe(true);
    expect(sender.client.isConnected).toBe(true);
    expect(await reader.client.who('flood')).toHaveLength(2);

    // Once the slow client reads again it drains what was sent and finds the connection closed.
    slow.resume();
    await slow.waitForClose();
    // What it did get is a gap-free prefix of the room, and at most the error naming why.
    const got = framesOf(slow, 'message').map((m) => m.seq);
    expect(got).toEqual(Array.from({ length: got.length }, (_, i) => i + 1));
    const errors = framesOf(slow, 'error');
    if (errors.length > 0) expect(errors).toEqual([expect.objectContaining({ code: 'SLOW_CONSUMER', fatal: true })]);

    const { id } = await sender.client.send('flood', 'after the cut');
    await waitFor(() => reader.messages.some((m) => m.seq === id.seq), 'the reader to get the next message');
  });
});

describe('idle timeout', () => {
  it('closes a connection that sends nothing after hello with IDLE_TIMEOUT, while a pinging client stays', async () => {
    // Pings far more often than the timeout, so a busy test machine cannot delay one past it.
    const idleTimeoutMs = 500;
    const pingMs = 25;
    const node = await startNode({ limits: { idleTimeoutMs } });
    const [a, b] = await connectBystanders(node, { pingMs });
    const pinger = await connectClient(node.address, 'pinger', { pingMs });
    await pinger.client.join('lobby');
    const drops: string[] = [];
    pinger.client.on('disconnected', (info) => drops.push(info.reason));

    const silent = await openRaw(node, 'silent');
    const error = await silent.waitForFrame('error');
    expect(error).toMatchObject({ code: 'IDLE_TIMEOUT', fatal: true });
    expect(error.message).toContain(`${idleTimeoutMs} ms`);
    await silent.waitForClose();

    // A second silent connection, opened after the first was dropped, is dropped too;
    // by then the pinging client has been connected for more than twice the timeout.
    const silentToo = await RawConnection.open(node.address);
    await silentToo.waitForClose();
    expect(framesOf(silentToo, 'error').map((e) => e.code)).toEqual(['IDLE_TIMEOUT']);

    expect(pinger.client.isConnected).toBe(true);
    expect(drops).toEqual([]);
    const { id } = await pinger.client.send('lobby', 'still here');
    await waitFor(() => a.messages.some((m) => m.seq === id.seq), 'the others to get the pinger message');
    expect(a.presence.filter((p) => p.member.nick === 'pinger' && p.event === 'left')).toEqual([]);
    await expectChatCarriesOn(a, b);
  });

  it('drops a connection that sends part of a frame and never the rest, with IDLE_TIMEOUT', async () => {
    const node = await startNode({ limits: { idleTimeoutMs: 300 } });
    const raw = await openRaw(node, 'trickler');
    const frame = encodeFrame({ type: 'send', room: 'general', text: 'never finished', clientMsgId: 't1' });
    raw.sendBytes(frame.subarray(0, frame.length - 3));
    await raw.waitForClose();
    expect(framesOf(raw, 'error').map((e) => [e.code, e.fatal])).toEqual([['IDLE_TIMEOUT', true]]);
  });
});

/** A raw connection from another loopback address than the bystanders' 127.0.0.1. */
async function openFrom(node: TestNode, localAddress: string, nick?: string): Promise<RawConnection> {
  const raw = await RawConnection.open(node.address, { localAddress });
  if (nick) await raw.hello(nick);
  return raw;
}

describe('connection limits', () => {
  it('refuses a connection past limits.maxConnectionsPerAddress with TOO_MANY_CONNECTIONS and a log line, while other addresses connect and chat', async () => {
    const node = await startLoggedNode({ nodeId: 'per-address', limits: { maxConnectionsPerAddress: 3 } });
    const [a, b] = await connectBystanders(node);
    const held = [];
    for (let i = 0; i < 3; i++) held.push(await openFrom(node, '127.0.0.2', `held${i}`));

    const refused = await openFrom(node, '127.0.0.2');
    const error = await expectFatalError(refused, 'TOO_MANY_CONNECTIONS');
    expect(error.message).toContain('127.0.0.2');
    expect(logsOf(node, 'client connection refused', { limit: 'maxConnectionsPerAddress' })).toHaveLength(1);

    // 127.0.0.1 has its own count: a third client from there gets in and chats.
    const c = await connectClient(node.address, 'carol');
    await c.client.join('lobby');
    await expectChatCarriesOn(a, b);
    expect(held.every((raw) => !raw.isClosed)).toBe(true);

    // A closed connection frees its slot.
    held[0]?.destroy();
    await waitFor(async () => {
      const again = await openFrom(node, '127.0.0.2');
      again.sendFrame({ type: 'ping', nonce: 1 });
      await waitFor(() => again.frames.length > 0 || again.isClosed, 'an answer');
      const isAdmitted = again.frames.some((f) => f.type === 'pong');
      again.destroy();
      return isAdmitted;
    }, 'a connection from 127.0.0.2 to be admitted again');
  });

  it('refuses a connection past limits.maxConnections with TOO_MANY_CONNECTIONS, and the connected clients carry on', async () => {
    const node = await startLoggedNode({ nodeId: 'per-node', limits: { maxConnections: 4 } });
    const [a, b] = await connectBystanders(node);
    await openFrom(node, '127.0.0.2', 'x1');
    await openFrom(node, '127.0.0.3', 'x2');

    const refused = await openFrom(node, '127.0.0.4');
    const error = await expectFatalError(refused, 'TOO_MANY_CONNECTIONS');
    expect(error.message).toContain('4 connections');
    expect(logsOf(node, 'client connection refused', { limit: 'maxConnections' })).toHaveLength(1);
    await expectChatCarriesOn(a, b);
  });

  it('closes a connection that says no hello within limits.handshakeTimeoutMs with HANDSHAKE_TIMEOUT, and keeps the welcomed ones', async () => {
    const node = await startLoggedNode({ nodeId: 'handshake', limits: { handshakeTimeoutMs: 300 } });
    const [a, b] = await connectBystanders(node);
    const welcomed = await openRaw(node, 'quiet');
    const silent = await RawConnection.open(node.address);

    const error = await expectFatalError(silent, 'HANDSHAKE_TIMEOUT');
    expect(error.message).toContain('300 ms');
    expect(logsOf(node, 'client handshake timed out')).toHaveLength(1);
    // Welcomed 300 ms and more ago, silent since, and still open: the idle timeout is 15 s.
    expect(welcomed.isClosed).toBe(false);
    await expectChatCarriesOn(a, b);
  });
});

describe('room and name limits', () => {
  it('refuses a join past limits.maxRoomsPerClient with non-fatal TOO_MANY_ROOMS; the client stays in its rooms', async () => {
    const node = await startNode({ limits: { maxRoomsPerClient: 2 } });
    const [a, b] = await connectBystanders(node);
    const alice = await connectClient(node.address, 'alice');
    await alice.client.join('one');
    await alice.client.join('lobby');
    await expect(alice.client.join('three')).rejects.toMatchObject({ code: 'TOO_MANY_ROOMS' });
    // Joining a room it is in again is not a new room.
    await alice.client.join('one');
    expect(alice.client.isConnected).toBe(true);
    await expectChatCarriesOn(alice, a);

    await alice.client.leave('one');
    await alice.client.join('three');
    await expectChatCarriesOn(a, b);
  });

  it('applies limits.maxNickLength at hello (fatal INVALID_NICK) and limits.maxRoomNameLength at join (INVALID_ROOM)', async () => {
    const node = await startNode({ limits: { maxNickLength: 5, maxRoomNameLength: 6 } });
    const a = await connectClient(node.address, 'ann');
    const b = await connectClient(node.address, 'bo');
    await a.client.join('lobby');
    await b.client.join('lobby');

    const long = await RawConnection.open(node.address);
    long.sendFrame({ type: 'hello', version: PROTOCOL_VERSION, nick: 'sixsix', clientId: 'c-long' });
    const error = await expectFatalError(long, 'INVALID_NICK');
    expect(error.message).toContain('1-5 characters');

    const short = await openRaw(node, 'five5');
    short.sendFrame({ type: 'join', reqId: 1, room: 'sevenxx' });
    const refused = await waitForFrameWhere(short, 'error', (e) => e.reqId === 1, 'the join refused');
    expect(refused).toMatchObject({ code: 'INVALID_ROOM', fatal: false });
    expect(refused.message).toContain('1-6');
    expect((await rawJoin(short, 'sixsix')).complete).toBe(true);
    await expectChatCarriesOn(a, b);
  });
});
