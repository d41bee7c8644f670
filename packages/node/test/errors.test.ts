import { encodeFrame, PROTOCOL_VERSION } from '@meshchat/protocol';
import { describe, expect, it } from 'vitest';
import {
  connectBystanders,
  connectClient,
  expectChatCarriesOn,
  expectFatalError,
  framesOf,
  openRaw,
  RawConnection,
  rawJoin,
  startNode,
  waitFor,
  waitForFrameWhere,
} from './helpers.js';

/** A length-prefixed frame around any payload bytes, valid msgpack or not. */
function framed(payload: Uint8Array): Buffer {
  const out = Buffer.alloc(4 + payload.length);
  out.writeUInt32BE(payload.length, 0);
  out.set(payload, 4);
  return out;
}

describe('bad input closes only the offending connection', () => {
  // Each case: what a misbehaving client sends (after hello or not), and the error it must get.
  const cases: {
    name: string;
    helloFirst: boolean;
    bytes: () => Uint8Array;
    code: string;
    message?: RegExp;
  }[] = [
    {
      name: 'garbage bytes that are not msgpack get MALFORMED',
      helloFirst: true,
      bytes: () => framed(Buffer.from([0xc1, 0xc1, 0xc1])),
      code: 'MALFORMED',
    },
    {
      name: 'a msgpack payload that is not a map (an array) gets MALFORMED',
      helloFirst: true,
      // msgpack fixarray of three small ints
      bytes: () => framed(Buffer.from([0x93, 0x01, 0x02, 0x03])),
      code: 'MALFORMED',
      message: /map/,
    },
    {
      name: 'a msgpack payload that is a plain string gets MALFORMED',
      helloFirst: false,
      // msgpack fixstr "hello"
      bytes: () => framed(Buffer.from([0xa5, ...Buffer.from('hello')])),
      code: 'MALFORMED',
      message: /map/,
    },
    {
      name: 'a frame with an empty payload gets MALFORMED',
      helloFirst: true,
      bytes: () => Buffer.from([0, 0, 0, 0]),
      code: 'MALFORMED',
    },
    {
      name: 'an unknown frame type gets UNKNOWN_TYPE naming it',
      helloFirst: true,
      bytes: () => encodeFrame({ type: 'teleport', room: 'general' }),
      code: 'UNKNOWN_TYPE',
      message: /teleport/,
    },
    {
      name: 'a frame only nodes may send (welcome) gets UNKNOWN_TYPE',
      helloFirst: true,
      bytes: () => encodeFrame({ type: 'welcome' }),
      code: 'UNKNOWN_TYPE',
    },
    {
      name: 'a join without a room gets INVALID_FRAME naming the field',
      helloFirst: true,
      bytes: () => encodeFrame({ type: 'join', reqId: 1 }),
      code: 'INVALID_FRAME',
      message: /"room"/,
    },
    {
      name: 'a send whose text is a number gets INVALID_FRAME naming the field',
      helloFirst: true,
      bytes: () => encodeFrame({ type: 'send', room: 'general', text: 42, clientMsgId: 'x' }),
      code: 'INVALID_FRAME',
      message: /"text"/,
    },
    {
      name: 'a map without a type gets INVALID_FRAME naming the field',
      helloFirst: false,
      bytes: () => encodeFrame({ nick: 'alice' }),
      code: 'INVALID_FRAME',
      message: /"type"/,
    },
    {
      name: 'a join before hello gets NOT_READY',
      helloFirst: false,
      bytes: () => encodeFrame({ type: 'join', reqId: 1, room: 'general' }),
      code: 'NOT_READY',
      message: /hello/,
    },
    {
      name: 'a second hello gets UNEXPECTED_FRAME',
      helloFirst: true,
      bytes: () => encodeFrame({ type: 'hello', version: PROTOCOL_VERSION, nick: 'again', clientId: 'c-again' }),
      code: 'UNEXPECTED_FRAME',
    },
    {
      name: 'a hello with another protocol version gets VERSION_MISMATCH naming both versions',
      helloFirst: false,
      bytes: () => encodeFrame({ type: 'hello', version: PROTOCOL_VERSION + 1, nick: 'future', clientId: 'c-f' }),
      code: 'VERSION_MISMATCH',
      message: new RegExp(`version ${PROTOCOL_VERSION + 1}\\b.*version ${PROTOCOL_VERSION}\\b`),
    },
    {
      name: 'a hello with an invalid nick gets INVALID_NICK',
      helloFirst: false,
      bytes: () => encodeFrame({ type: 'hello', version: PROTOCOL_VERSION, nick: 'no spaces!', clientId: 'c-n' }),
      code: 'INVALID_NICK',
      message: /no spaces!/,
    },
    {
      name: 'a hello with a nick starting with a digit gets INVALID_NICK',
      helloFirst: false,
      bytes: () => encodeFrame({ type: 'hello', version: PROTOCOL_VERSION, nick: '9lives', clientId: 'c-9' }),
      code: 'INVALID_NICK',
    },
  ];

  for (const { name, helloFirst, bytes, code, message } of cases) {
    it(`${name}, fatal, and closes it while other clients carry on`, async () => {
      const node = await startNode();
      const [a, b] = await connectBystanders(node);
      const raw = await RawConnection.open(node.address);
      if (helloFirst) await raw.hello('mallory');
      raw.sendBytes(bytes());
      const error = await expectFatalError(raw, code);
      if (message) expect(error.message).toMatch(message);
      await expectChatCarriesOn(a, b);
    });
  }

  it('a hello with a nick in use by another client gets NICK_TAKEN, whatever its case, and the holder keeps it', async () => {
    const node = await startNode();
    const [a, b] = await connectBystanders(node);
    const alice = await connectClient(node.address, 'alice');
    await alice.client.join('lobby');

    for (const nick of ['alice', 'ALICE']) {
      const raw = await RawConnection.open(node.address);
      raw.sendFrame({ type: 'hello', version: PROTOCOL_VERSION, nick, clientId: 'someone-else' });
      const error = await expectFatalError(raw, 'NICK_TAKEN');
      expect(error.message).toContain(nick);
    }
    expect(alice.client.isConnected).toBe(true);
    await expectChatCarriesOn(alice, a);
    await expectChatCarriesOn(a, b);
  });

  it('a hello with the same nick and clientId replaces the old session, which gets SESSION_REPLACED', async () => {
    const node = await startNode();
    const [a, b] = await connectBystanders(node);
    const old = await openRaw(node, 'carol', 'c-carol');
    await rawJoin(old, 'lobby');

    const fresh = await openRaw(node, 'carol', 'c-carol');
    await expectFatalError(old, 'SESSION_REPLACED');
    // The old session left its rooms; the new one holds the nick and can chat.
    await waitFor(
      () => a.presence.some((p) => p.event === 'left' && p.member.clientId === 'c-carol'),
      'the room to see the old session leave',
    );
    const joined = await rawJoin(fresh, 'lobby');
    expect(joined.members.filter((m) => m.nick === 'carol')).toHaveLength(1);
    fresh.sendFrame({ type: 'send', room: 'lobby', text: 'carol is back', clientMsgId: 'back-1' });
    await waitFor(() => a.messages.some((m) => m.text === 'carol is back'), 'a to get the new session message');
    expect(fresh.isClosed).toBe(false);
    await expectChatCarriesOn(a, b);
  });

  it('rejects an oversize frame as soon as its 4-byte length prefix arrives, without waiting for the payload', async () => {
    const node = await startNode({ limits: { maxFrameBytes: 1024 } });
    const [a, b] = await connectBystanders(node);
    const raw = await openRaw(node, 'mallory');
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32BE(1025, 0);
    raw.sendBytes(prefix);
    const error = await expectFatalError(raw, 'FRAME_TOO_LARGE');
    expect(error.message).toMatch(/1025.*1024/);
    await expectChatCarriesOn(a, b);
  });

  it('rejects a 4 GiB length prefix before hello', async () => {
    const node = await startNode();
    const [a, b] = await connectBystanders(node);
    const raw = await RawConnection.open(node.address);
    raw.sendBytes(Buffer.from([0xff, 0xff, 0xff, 0xff]));
    await expectFatalError(raw, 'FRAME_TOO_LARGE');
    await expectChatCarriesOn(a, b);
  });

  it('accepts a frame of exactly maxFrameBytes', async () => {
    const maxFrameBytes = 2048;
    const node = await startNode({ limits: { maxFrameBytes, maxMessageLength: 4000 } });
    const raw = await openRaw(node, 'alice');
    await rawJoin(raw, 'general');
    // Grow the text until the payload is exactly the limit (str16 keeps one byte a char).
    const frame = (text: string) => ({ type: 'send', room: 'general', text, clientMsgId: 'exact' });
    const base = 'x'.repeat(1000);
    const payload = encodeFrame(frame(base)).length - 4;
    const bytes = encodeFrame(frame(base + 'y'.repeat(maxFrameBytes - payload)));
    expect(Buffer.from(bytes).readUInt32BE(0)).toBe(maxFrameBytes);
    raw.sendBytes(bytes);
    await waitForFrameWhere(raw, 'ack', (f) => f.clientMsgId === 'exact', 'the ack of the largest allowed frame');
    expect(raw.isClosed).toBe(false);
  });

  it('delivers the frames that came before a bad one in the same chunk, then closes', async () => {
    const node = await startNode();
    const [a] = await connectBystanders(node);
    const raw = await openRaw(node, 'mallory');
    await rawJoin(raw, 'lobby');
    raw.sendBytes(
      Buffer.concat([
        encodeFrame({ type: 'send', room: 'lobby', text: 'last words', clientMsgId: 'lw' }),
        framed(Buffer.from([0xc1])),
        encodeFrame({ type: 'send', room: 'lobby', text: 'never', clientMsgId: 'nv' }),
      ]),
    );
    await expectFatalError(raw, 'MALFORMED');
    await waitFor(() => a.messages.some((m) => m.text === 'last words'), 'the frame before the bad one');
    expect(a.messages.some((m) => m.text === 'never')).toBe(false);
  });

  it('acts on nothing that follows a fatal error in the same chunk', async () => {
    const node = await startNode();
    const raw = await RawConnection.open(node.address);
    raw.sendBytes(
      Buffer.concat([
        encodeFrame({ type: 'join', reqId: 1, room: 'general' }),
        encodeFrame({ type: 'hello', version: PROTOCOL_VERSION, nick: 'late', clientId: 'c-late' }),
        encodeFrame({ type: 'ping', nonce: 1 }),
      ]),
    );
    expect(await expectFatalError(raw, 'NOT_READY')).toMatchObject({ reqId: 1 });
    expect(raw.frames.map((f) => f.type)).toEqual(['error']);
    // The nick was never taken.
    await connectClient(node.address, 'late');
  });
});

describe('sessions end cleanly', () => {
  it('forgets the session of every connection that ends, whatever ended it', async () => {
    // No grace: a client gone without a bye is not held for a resume.
    const node = await startNode({ resumeGraceMs: 0 });
    const observer = await connectClient(node.address, 'observer');
    await observer.client.join('general');

    const leaver = await connectClient(node.address, 'leaver');
    await leaver.client.join('general');
    await leaver.client.close();

    const dropped = await openRaw(node, 'dropped');
    await rawJoin(dropped, 'general');
    dropped.destroy();

    const nameless = await RawConnection.open(node.address);
    nameless.destroy();

    const broken = await openRaw(node, 'broken');
    await rawJoin(broken, 'general');
    broken.sendBytes(Buffer.from([0, 0, 0, 1, 0xc1]));
    await expectFatalError(broken, 'MALFORMED');

    const replaced = await openRaw(node, 'twin', 'c-twin');
    await rawJoin(replaced, 'general');
    const twin = await openRaw(node, 'twin', 'c-twin');
    await expectFatalError(replaced, 'SESSION_REPLACED');
    twin.destroy();

    const impostor = await RawConnection.open(node.address);
    impostor.sendFrame({ type: 'hello', version: PROTOCOL_VERSION, nick: 'observer', clientId: 'c-impostor' });
    await expectFatalError(impostor, 'NICK_TAKEN');

    await waitFor(() => node.chat.sessionCount === 1, 'only the observer session to remain');
    const left = () => observer.presence.filter((p) => p.event === 'left').map((p) => p.member.nick);
    await waitFor(() => left().length === 4, 'the observer to see four members leave');
    expect(await observer.client.who('general')).toEqual([
      { clientId: observer.client.clientId, nick: 'observer', nodeId: node.nodeId },
    ]);
    expect(await observer.client.rooms()).toEqual([{ name: 'general', members: 1 }]);
    // Everyone who had joined was seen to leave, once each.
    expect(left().sort()).toEqual(['broken', 'dropped', 'leaver', 'twin']);
  });
});

describe('session rule errors keep the connection open', () => {
  it('answers a join of an invalid room name with INVALID_ROOM carrying the reqId', async () => {
    const node = await startNode();
    const raw = await openRaw(node, 'alice');
    raw.sendFrame({ type: 'join', reqId: 9, room: 'Not A Room' });
    const error = await raw.waitForFrame('error');
    expect(error).toMatchObject({ code: 'INVALID_ROOM', fatal: false, reqId: 9 });
    expect(error.message).toContain('Not A Room');
    const joined = await rawJoin(raw, 'a-room');
    expect(joined.room).toBe('a-room');
    expect(raw.isClosed).toBe(false);
  });

  it('rejects who and history of an invalid room name with INVALID_ROOM through the client', async () => {
    const node = await startNode();
    const alice = await connectClient(node.address, 'alice');
    await expect(alice.client.who('UPPER')).rejects.toMatchObject({ code: 'INVALID_ROOM' });
    await expect(alice.client.history('-dash-first')).rejects.toMatchObject({ code: 'INVALID_ROOM' });
    await expect(alice.client.join('x'.repeat(65))).rejects.toMatchObject({ code: 'INVALID_ROOM' });
    expect(alice.client.isConnected).toBe(true);
    await alice.client.join('fine');
  });

  it('answers a send to a room not joined, and a leave of one, with NOT_IN_ROOM', async () => {
    const node = await startNode();
    const raw = await openRaw(node, 'alice');
    raw.sendFrame({ type: 'send', room: 'general', text: 'hi', clientMsgId: 'm1' });
    raw.sendFrame({ type: 'leave', reqId: 4, room: 'general' });
    await waitFor(() => framesOf(raw, 'error').length === 2, 'two errors');
    expect(framesOf(raw, 'error')).toEqual([
      expect.objectContaining({ code: 'NOT_IN_ROOM', fatal: false, clientMsgId: 'm1' }),
      expect.objectContaining({ code: 'NOT_IN_ROOM', fatal: false, reqId: 4 }),
    ]);
    await rawJoin(raw, 'general');
    raw.sendFrame({ type: 'send', room: 'general', text: 'hi', clientMsgId: 'm2' });
    await waitForFrameWhere(raw, 'ack', (f) => f.clientMsgId === 'm2', 'the ack once joined');
    expect(raw.isClosed).toBe(false);
  });

  it('rejects a message longer than limits.maxMessageLength with MESSAGE_TOO_LONG and takes one at the limit', async () => {
    const node = await startNode({ limits: { maxMessageLength: 10 } });
    const alice = await connectClient(node.address, 'alice');
    const bob = await connectClient(node.address, 'bob');
    await alice.client.join('general');
    await bob.client.join('general');

    await expect(alice.client.send('general', '12345678901')).rejects.toMatchObject({ code: 'MESSAGE_TOO_LONG' });
    await expect(alice.client.dm('bob', '12345678901')).rejects.toMatchObject({ code: 'MESSAGE_TOO_LONG' });
    const { id } = await alice.client.send('general', '1234567890');
    expect(id.seq).toBe(1);
    await waitFor(() => bob.messages.length === 1, 'bob to get the message at the limit');
    expect(bob.messages.map((m) => m.text)).toEqual(['1234567890']);

    const raw = await openRaw(node, 'carol');
    await rawJoin(raw, 'general');
    raw.sendFrame({ type: 'send', room: 'general', text: 'far too long', clientMsgId: 'long-1' });
    const error = await raw.waitForFrame('error');
    expect(error).toMatchObject({ code: 'MESSAGE_TOO_LONG', fatal: false, clientMsgId: 'long-1' });
    expect(error.message).toMatch(/12.*10/);
    expect(raw.isClosed).toBe(false);
  });

  it('rejects an empty or blank message with EMPTY_MESSAGE without closing', async () => {
    const node = await startNode();
    const raw = await openRaw(node, 'alice');
    await rawJoin(raw, 'general');
    raw.sendFrame({ type: 'send', room: 'general', text: '', clientMsgId: 'e1' });
    raw.sendFrame({ type: 'send', room: 'general', text: ' \n\t ', clientMsgId: 'e2' });
    await waitFor(() => framesOf(raw, 'error').length === 2, 'two errors');
    expect(framesOf(raw, 'error').map((e) => [e.code, e.fatal, e.clientMsgId])).toEqual([
      ['EMPTY_MESSAGE', false, 'e1'],
      ['EMPTY_MESSAGE', false, 'e2'],
    ]);
    expect(framesOf(raw, 'message')).toEqual([]);
    expect(raw.isClosed).toBe(false);
  });
});
