import { pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import {
  type ClientFrame,
  type ClientFrameOf,
  clientFrameSchemas,
  DEFAULT_MAX_FRAME_BYTES,
  type DecodeResult,
  ERROR_CODES,
  encodeFrame,
  FrameDecoder,
  type FrameSchemas,
  HybridLogicalClock,
  hlcWallMs,
  LENGTH_PREFIX_BYTES,
  MAX_HISTORY_LIMIT,
  MAX_TEXT_LENGTH,
  ProtocolError,
  packHlc,
  type ServerFrame,
  type ServerFrameOf,
  serverFrameSchemas,
} from '../src/index.js';

// Realistic values for every frame type in both directions, including each optional
// field both present and absent. The mapped types make the compiler reject a missing type.
const t0 = Date.UTC(2025, 5, 1, 12, 0, 0);
const alice = { clientId: 'c-7f3a9d', nick: 'alice' };
const bob = { clientId: 'c-19be02', nick: 'bob' };
const chatMessage = {
  room: 'general',
  origin: 'node-a',
  seq: 42,
  hlc: packHlc(t0, 3),
  from: alice,
  text: 'hello, world 👋 — ünïcödé',
  clientMsgId: 'c-7f3a9d:17',
  sentAt: t0 - 5,
};

const clientExamples: { [K in ClientFrame['type']]: ClientFrameOf<K>[] } = {
  hello: [
    { type: 'hello', version: 2, nick: 'alice', clientId: alice.clientId },
    { type: 'hello', version: 2, nick: 'alice', clientId: alice.clientId, inbox: { 'node-a': 3, 'node-b': 1 } },
  ],
  join: [
    { type: 'join', reqId: 1, room: 'general' },
    { type: 'join', reqId: 2, room: 'general', cursor: { 'node-a': 42, 'node-b': 0, 'node-c': 7 } },
  ],
  leave: [{ type: 'leave', reqId: 3, room: 'general' }],
  send: [
    { type: 'send', room: 'general', text: 'hi all', clientMsgId: 'c-7f3a9d:18' },
    { type: 'send', room: 'general', text: '', clientMsgId: 'c-7f3a9d:19' },
  ],
  dm: [{ type: 'dm', to: 'bob', text: 'psst', clientMsgId: 'c-7f3a9d:20' }],
  inbox: [{ type: 'inbox', cursor: { 'node-a': 7 } }],
  bye: [{ type: 'bye' }],
  history: [
    { type: 'history', reqId: 4, room: 'general', limit: 50 },
    {
      type: 'history',
      reqId: 5,
      room: 'general',
      before: { hlc: packHlc(t0, 0), origin: 'node-a', seq: 42 },
      limit: MAX_HISTORY_LIMIT,
    },
  ],
  rooms: [{ type: 'rooms', reqId: 6 }],
  who: [{ type: 'who', reqId: 7, room: 'general' }],
  ping: [{ type: 'ping', nonce: 1 }],
  pong: [{ type: 'pong', nonce: -9 }],
};

const serverExamples: { [K in ServerFrame['type']]: ServerFrameOf<K>[] } = {
  welcome: [
    {
      type: 'welcome',
      version: 2,
      nodeId: 'node-a',
      sessionId: 's-0b5c1e',
      clientId: alice.clientId,
      nick: 'alice',
      servers: ['10.0.0.1:7001', '10.0.0.2:7001', '[::1]:7003'],
      inbox: { 'node-b': 12 },
      limits: { maxMessageLength: 4000, idleTimeoutMs: 15000 },
    },
  ],
  joined: [
    {
      type: 'joined',
      reqId: 1,
      room: 'general',
      members: [
        { ...alice, nodeId: 'node-a' },
        { ...bob, nodeId: 'node-b' },
      ],
      history: [chatMessage, { ...chatMessage, origin: 'node-b', seq: 1, hlc: packHlc(t0, 4), from: bob }],
      cursor: { 'node-a': 42, 'node-b': 1 },
      complete: true,
    },
    { type: 'joined', reqId: 2, room: 'empty-room', members: [], history: [], cursor: {}, complete: false },
  ],
  left: [{ type: 'left', reqId: 3, room: 'general' }],
  ack: [{ type: 'ack', clientMsgId: 'c-7f3a9d:18', id: { room: 'general', origin: 'node-a', seq: 43 } }],
  message: [{ type: 'message', ...chatMessage }],
  direct: [
    {
      type: 'direct',
      id: { room: `@${bob.clientId}`, origin: 'node-a', seq: 1 },
      hlc: packHlc(t0, 9),
      from: alice,
      to: 'bob',
      text: 'psst',
      clientMsgId: 'c-7f3a9d:20',
      sentAt: t0,
    },
  ],
  inbox_replayed: [
    { type: 'inbox_replayed', cursor: { 'node-a': 7, 'node-b': 2 }, complete: true },
    { type: 'inbox_replayed', cursor: {}, complete: false },
  ],
  servers: [{ type: 'servers', servers: ['10.0.0.1:7001', '10.0.0.4:7001'] }],
  history_reply: [
    { type: 'history_reply', reqId: 4, room: 'general', messages: [chatMessage], hasMore: true },
    { type: 'history_reply', reqId: 5, room: 'general', messages: [], hasMore: false },
  ],
  rooms_reply: [
    {
      type: 'rooms_reply',
      reqId: 6,
      rooms: [
        { name: 'general', members: 2 },
        { name: 'random', members: 0 },
      ],
    },
  ],
  who_reply: [{ type: 'who_reply', reqId: 7, room: 'general', members: [{ ...alice, nodeId: 'node-a' }] }],
  presence: [
    { type: 'presence', room: 'general', event: 'joined', member: { ...bob, nodeId: 'node-b' } },
    { type: 'presence', room: 'general', event: 'left', member: { ...bob, nodeId: 'node-b' } },
  ],
  error: [
    { type: 'error', code: 'NOT_IN_ROOM', message: 'not in room "random"', reqId: 8, fatal: false },
    { type: 'error', code: 'RATE_LIMITED', message: 'slow down', clientMsgId: 'c-7f3a9d:21', fatal: false },
    { type: 'error', code: 'VERSION_MISMATCH', message: 'client speaks version 2, node speaks 1', fatal: true },
  ],
  ping: [{ type: 'ping', nonce: 2 ** 40 }],
  pong: [{ type: 'pong', nonce: 0 }],
};

const allClientFrames: ClientFrame[] = Object.values(clientExamples).flat();
const allServerFrames: ServerFrame[] = Object.values(serverExamples).flat();

/** Length-prefixes raw payload bytes, for inputs encodeFrame would never produce. */
function framed(payload: Uint8Array): Buffer {
  const out = Buffer.alloc(LENGTH_PREFIX_BYTES + payload.length);
  out.writeUInt32BE(payload.length, 0);
  out.set(payload, LENGTH_PREFIX_BYTES);
  return out;
}

function prefixOnly(length: number): Buffer {
  const out = Buffer.alloc(LENGTH_PREFIX_BYTES);
  out.writeUInt32BE(length, 0);
  return out;
}

/** Pushes each chunk in turn and collects the frames; fails the test on any error. */
function decodeChunks<S extends FrameSchemas>(decoder: FrameDecoder<S>, chunks: Uint8Array[]): unknown[] {
  const frames: unknown[] = [];
  for (const chunk of chunks) {
    const result = decoder.push(chunk);
    expect(result.error).toBeUndefined();
    frames.push(...result.frames);
  }
  return frames;
}

function expectError(result: DecodeResult<unknown>, code: keyof typeof ERROR_CODES, message?: RegExp): ProtocolError {
  expect(result.error).toBeInstanceOf(ProtocolError);
  const error = result.error as ProtocolError;
  expect(error.name).toBe('ProtocolError');
  expect(error.code).toBe(code);
  if (message) expect(error.message).toMatch(message);
  return error;
}

// Small deterministic PRNG (mulberry32) so the random splits are the same on every run.
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('round trip', () => {
  it('has an example for every frame type in both directions', () => {
    expect(Object.keys(clientExamples).sort()).toEqual(Object.keys(clientFrameSchemas).sort());
    expect(Object.keys(serverExamples).sort()).toEqual(Object.keys(serverFrameSchemas).sort());
  });

  const cases = [
    ['client -> node', allClientFrames, clientFrameSchemas],
    ['node -> client', allServerFrames, serverFrameSchemas],
  ] as const;

  for (const [direction, frames, schemas] of cases) {
    describe(direction, () => {
      it.each(frames.map((frame) => [frame.type, frame] as const))(
        'decodes %s equal to what was encoded',
        (_, frame) => {
          expect(schemas[frame.type as keyof typeof schemas].parse(frame)).toEqual(frame);
          const bytes = encodeFrame(frame);
          expect(Buffer.from(bytes).readUInt32BE(0)).toBe(bytes.length - LENGTH_PREFIX_BYTES);
          const decoder = new FrameDecoder(schemas);
          const result = decoder.push(bytes);
          expect(result.error).toBeUndefined();
          expect(result.frames).toEqual([frame]);
          expect(decoder.bufferedBytes).toBe(0);
        },
      );
    });
  }

  it('drops fields the schema does not know, so a newer peer can add optional fields', () => {
    const result = new FrameDecoder(clientFrameSchemas).push(encodeFrame({ type: 'ping', nonce: 5, extra: 'x' }));
    expect(result.frames).toEqual([{ type: 'ping', nonce: 5 }]);
  });

  it('accepts a message text of exactly MAX_TEXT_LENGTH characters', () => {
    const frame = { type: 'send', room: 'general', text: 'é'.repeat(MAX_TEXT_LENGTH), clientMsgId: 'm1' };
    expect(new FrameDecoder(clientFrameSchemas).push(encodeFrame(frame)).frames).toEqual([frame]);
  });
});

describe('chunk boundaries', () => {
  const stream = Buffer.concat(allServerFrames.map((frame) => encodeFrame(frame)));
  // Byte offset at which each frame of the stream starts, plus the end of the stream.
  const starts = [0];
  for (const frame of allServerFrames) starts.push(starts.at(-1)! + encodeFrame(frame).length);

  it('decodes the stream split in two at every byte offset', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const decoder = new FrameDecoder(serverFrameSchemas);
      expect(decodeChunks(decoder, [stream.subarray(0, cut), stream.subarray(cut)])).toEqual(allServerFrames);
      expect(decoder.bufferedBytes).toBe(0);
    }
  });

  it('decodes the stream fed one byte at a time, buffering only the frame in progress', () => {
    const decoder = new FrameDecoder(serverFrameSchemas);
    const frames: unknown[] = [];
    for (let i = 0; i < stream.length; i++) {
      const result = decoder.push(stream.subarray(i, i + 1));
      expect(result.error).toBeUndefined();
      frames.push(...result.frames);
      const received = i + 1;
      const frameStart = starts.filter((start) => start <= received).at(-1)!;
      expect(decoder.bufferedBytes).toBe(received - frameStart);
      // Whatever is buffered is a strict prefix of one frame.
      const frameEnd = starts[starts.indexOf(frameStart) + 1] ?? frameStart;
      expect(decoder.bufferedBytes).toBeLessThan(Math.max(frameEnd - frameStart, 1));
    }
    expect(frames).toEqual(allServerFrames);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('decodes the stream in random splits', () => {
    const random = prng(0x6d657368);
    const frames = [...allClientFrames, ...allServerFrames.filter((f) => f.type === 'ping' || f.type === 'pong')];
    const bytes = Buffer.concat(frames.map((frame) => encodeFrame(frame)));
    const largestFrame = Math.max(...frames.map((frame) => encodeFrame(frame).length));
    for (let run = 0; run < 300; run++) {
      const decoder = new FrameDecoder(clientFrameSchemas);
      const decoded: unknown[] = [];
      for (let offset = 0; offset < bytes.length; ) {
        const size = 1 + Math.floor(random() * (random() < 0.5 ? 8 : 200));
        const result = decoder.push(bytes.subarray(offset, offset + size));
        expect(result.error).toBeUndefined();
        decoded.push(...result.frames);
        expect(decoder.bufferedBytes).toBeLessThan(largestFrame);
        offset += size;
      }
      expect(decoded).toEqual(frames);
      expect(decoder.bufferedBytes).toBe(0);
    }
  });

  it('decodes many frames coalesced in one chunk', () => {
    const frames = Array.from({ length: 2000 }, (_, i) => ({ type: 'message' as const, ...chatMessage, seq: i + 1 }));
    const decoder = new FrameDecoder(serverFrameSchemas);
    const result = decoder.push(Buffer.concat(frames.map((frame) => encodeFrame(frame))));
    expect(result.error).toBeUndefined();
    expect(result.frames).toEqual(frames);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('returns the complete frames of a chunk and keeps only the partial one at its end', () => {
    const last = encodeFrame(clientExamples.send[0]!);
    const chunk = Buffer.concat([...allClientFrames.map((frame) => encodeFrame(frame)), last.subarray(0, 7)]);
    const decoder = new FrameDecoder(clientFrameSchemas);
    expect(decodeChunks(decoder, [chunk])).toEqual(allClientFrames);
    expect(decoder.bufferedBytes).toBe(7);
    expect(decodeChunks(decoder, [last.subarray(7)])).toEqual([clientExamples.send[0]]);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('accepts plain Uint8Array views that do not start at offset 0', () => {
    const bytes = Buffer.concat([Buffer.from([0xee, 0xee]), encodeFrame({ type: 'ping', nonce: 3 })]);
    const backing = new Uint8Array(bytes.length);
    backing.set(bytes);
    const decoder = new FrameDecoder(clientFrameSchemas);
    expect(decodeChunks(decoder, [backing.subarray(2, 6), backing.subarray(6)])).toEqual([{ type: 'ping', nonce: 3 }]);
  });

  it('treats an empty chunk as no input', () => {
    const decoder = new FrameDecoder(clientFrameSchemas);
    expect(decodeChunks(decoder, [new Uint8Array(0), encodeFrame({ type: 'ping', nonce: 1 }).subarray(0, 2)])).toEqual(
      [],
    );
    expect(decoder.push(new Uint8Array(0))).toEqual({ frames: [] });
    expect(decoder.bufferedBytes).toBe(2);
  });

  it('hands each frame with its bytes as received, whole or reassembled, to pass on without encoding', () => {
    const frames = [
      encodeFrame({ type: 'ping', nonce: 1 }),
      encodeFrame({ type: 'send', room: 'r', text: 'x'.repeat(300), clientMsgId: 'm' }),
    ];
    const stream = Buffer.concat(frames);
    for (const split of [stream.length, 7, 1]) {
      const decoder = new FrameDecoder(clientFrameSchemas);
      const raws: Buffer[] = [];
      for (let offset = 0; offset < stream.length; offset += split) {
        decoder.pushEach(stream.subarray(offset, offset + split), (_frame, raw) => raws.push(Buffer.from(raw)));
      }
      expect(raws).toEqual(frames);
    }
  });

  it('applies a limit raised by the consumer of a frame to the next frame of the same chunk', () => {
    const small = encodeFrame({ type: 'ping', nonce: 1 });
    const large = encodeFrame({ type: 'send', room: 'r', text: 'z'.repeat(500), clientMsgId: 'm' });
    const decoder = new FrameDecoder(clientFrameSchemas, { maxFrameBytes: 64 });
    const seen: string[] = [];
    const error = decoder.pushEach(Buffer.concat([small, large]), (frame) => {
      seen.push(frame.type);
      decoder.setMaxFrameBytes(4096);
    });
    expect(error).toBeUndefined();
    expect(seen).toEqual(['ping', 'send']);
  });

  it('reassembles a frame of maxFrameBytes pushed in 16-byte chunks, holding one copy of it', () => {
    const text = 'x'.repeat(60_000);
    const frame = encodeFrame({ type: 'send', room: 'r', text, clientMsgId: 'big' });
    const decoder = new FrameDecoder(clientFrameSchemas, { maxFrameBytes: frame.length });
    const frames = [];
    for (let offset = 0; offset < frame.length; offset += 16) {
      const result = decoder.push(frame.subarray(offset, offset + 16));
      expect(result.error).toBeUndefined();
      frames.push(...result.frames);
      expect(decoder.bufferedBytes).toBeLessThanOrEqual(frame.length);
    }
    expect(frames).toEqual([{ type: 'send', room: 'r', text, clientMsgId: 'big' }]);
  });
});

describe('decoder errors', () => {
  const decodeOne = (payload: Uint8Array, schemas: FrameSchemas = clientFrameSchemas) =>
    new FrameDecoder(schemas).push(framed(payload));

  describe('FRAME_TOO_LARGE', () => {
    it('is reported from the 4-byte prefix alone, before any payload is buffered', () => {
      const decoder = new FrameDecoder(clientFrameSchemas, { maxFrameBytes: 1024 });
      const result = decoder.push(prefixOnly(1025));
      expect(result.frames).toEqual([]);
      expectError(result, 'FRAME_TOO_LARGE', /1025.*1024/);
      expect(decoder.bufferedBytes).toBe(0);
    });

    it('is reported as soon as the fourth prefix byte arrives one byte at a time', () => {
      const decoder = new FrameDecoder(clientFrameSchemas, { maxFrameBytes: 1024 });
      const prefix = prefixOnly(0xffffffff);
      for (let i = 0; i < 3; i++) {
        expect(decoder.push(prefix.subarray(i, i + 1))).toEqual({ frames: [] });
        expect(decoder.bufferedBytes).toBe(i + 1);
      }
      expectError(decoder.push(prefix.subarray(3)), 'FRAME_TOO_LARGE');
      expect(decoder.bufferedBytes).toBe(0);
    });

    it('allows a frame of exactly maxFrameBytes', () => {
      const frame = { type: 'send', room: 'r', text: '', clientMsgId: 'm' };
      const text = 'x'.repeat(200);
      const exact = encodeFrame({ ...frame, text });
      const maxFrameBytes = exact.length - LENGTH_PREFIX_BYTES;
      const decoder = new FrameDecoder(clientFrameSchemas, { maxFrameBytes });
      expect(decoder.push(exact).frames).toEqual([{ ...frame, text }]);
      expectError(decoder.push(encodeFrame({ ...frame, text: `${text}x` })), 'FRAME_TOO_LARGE');
    });

    it('defaults maxFrameBytes to DEFAULT_MAX_FRAME_BYTES', () => {
      const decoder = new FrameDecoder(clientFrameSchemas);
      expect(decoder.push(prefixOnly(DEFAULT_MAX_FRAME_BYTES)).error).toBeUndefined();
      expect(decoder.bufferedBytes).toBe(LENGTH_PREFIX_BYTES);
      expectError(
        new FrameDecoder(clientFrameSchemas).push(prefixOnly(DEFAULT_MAX_FRAME_BYTES + 1)),
        'FRAME_TOO_LARGE',
      );
    });
  });

  describe('MALFORMED', () => {
    it('rejects a payload that is not msgpack', () => {
      // An array header announcing two items followed by only one.
      expectError(decodeOne(Uint8Array.of(0x92, 0x01)), 'MALFORMED', /not valid msgpack/);
      // A map whose key is itself a map cannot become a plain object.
      expectError(decodeOne(Uint8Array.of(0x81, 0x81, 0x01, 0x01, 0x02)), 'MALFORMED', /not valid msgpack/);
    });

    it('rejects trailing bytes after the map', () => {
      const payload = Buffer.concat([pack({ type: 'ping', nonce: 1 }), Uint8Array.of(0xc0)]);
      expectError(decodeOne(payload), 'MALFORMED', /not valid msgpack/);
    });

    it.each([
      ['an array', [1, 2]],
      ['a number', 7],
      ['a string', 'ping'],
      ['nil', null],
      ['a boolean', true],
    ])('rejects %s where a map is required', (_, value) => {
      expectError(decodeOne(pack(value)), 'MALFORMED', /must be a msgpack map/);
    });

    it('rejects an empty payload', () => {
      expectError(new FrameDecoder(clientFrameSchemas).push(prefixOnly(0)), 'MALFORMED', /empty payload/);
    });

    // msgpackr decodes bin, ext types such as the timestamp and the reserved byte 0xc1 to
    // objects; only a plain map may pass as a frame.
    it('rejects bin, timestamp and 0xc1 payloads where a map is required', () => {
      expectError(decodeOne(Uint8Array.of(0xc4, 0x01, 0x00)), 'MALFORMED');
      expectError(decodeOne(Uint8Array.of(0xd6, 0xff, 0, 0, 0, 1)), 'MALFORMED');
      expectError(decodeOne(Uint8Array.of(0xc1)), 'MALFORMED');
    });
  });

  describe('INVALID_FRAME', () => {
    it('rejects a map without a string type', () => {
      expectError(decodeOne(pack({ nonce: 1 })), 'INVALID_FRAME', /"type"/);
      expectError(decodeOne(pack({ type: 3 })), 'INVALID_FRAME', /"type".*number/);
    });

    it.each([
      ['a field of the wrong type', { type: 'ping', nonce: 'one' }, 'ping frame field "nonce"'],
      ['a missing field', { type: 'hello', version: 1, nick: 'alice' }, 'hello frame field "clientId"'],
      ['a float where an integer is required', { type: 'hello', version: 1.5, nick: 'a', clientId: 'c' }, '"version"'],
      ['an empty room name', { type: 'leave', reqId: 1, room: '' }, 'leave frame field "room"'],
      ['a history limit of 0', { type: 'history', reqId: 1, room: 'r', limit: 0 }, 'history frame field "limit"'],
      [
        'a history limit over the maximum',
        { type: 'history', reqId: 1, room: 'r', limit: MAX_HISTORY_LIMIT + 1 },
        '"limit"',
      ],
      ['a negative cursor entry', { type: 'join', reqId: 1, room: 'r', cursor: { 'node-a': -1 } }, '"cursor.node-a"'],
      ['a negative reqId', { type: 'rooms', reqId: -1 }, 'rooms frame field "reqId"'],
      ['an integer beyond 2^53', { type: 'ping', nonce: 2 ** 60 }, '"nonce"'],
      [
        'a text over the maximum',
        { type: 'dm', to: 'bob', text: 'x'.repeat(MAX_TEXT_LENGTH + 1), clientMsgId: 'm' },
        '"text"',
      ],
    ])('rejects %s, naming the field', (_, frame, field) => {
      const error = expectError(decodeOne(pack(frame)), 'INVALID_FRAME');
      expect(error.message).toContain(field);
    });

    it('names nested fields of server frames by their path', () => {
      const badMessage = { ...serverExamples.message[0]!, from: { clientId: 'c1', nick: '' } };
      expect(expectError(decodeOne(pack(badMessage), serverFrameSchemas), 'INVALID_FRAME').message).toContain(
        'message frame field "from.nick"',
      );
      const badMembers = { type: 'who_reply', reqId: 1, room: 'r', members: [{ clientId: 'c', nick: 'n' }] };
      expect(expectError(decodeOne(pack(badMembers), serverFrameSchemas), 'INVALID_FRAME').message).toContain(
        '"members.0.nodeId"',
      );
      const badEvent = { ...serverExamples.presence[0]!, event: 'renamed' };
      expectError(decodeOne(pack(badEvent), serverFrameSchemas), 'INVALID_FRAME', /"event"/);
    });
  });

  describe('UNKNOWN_TYPE', () => {
    it('rejects a type no schema knows', () => {
      expectError(decodeOne(pack({ type: 'frobnicate' })), 'UNKNOWN_TYPE', /"frobnicate"/);
    });

    it('rejects a server-only frame sent to the client-frame decoder', () => {
      expectError(decodeOne(encodeFrame(serverExamples.welcome[0]!).subarray(4)), 'UNKNOWN_TYPE', /"welcome"/);
      expectError(decodeOne(pack({ type: 'ack' })), 'UNKNOWN_TYPE', /"ack"/);
    });

    it('rejects a client-only frame sent to the server-frame decoder', () => {
      expectError(decodeOne(pack(clientExamples.hello[0]), serverFrameSchemas), 'UNKNOWN_TYPE', /"hello"/);
    });

    it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty'])('rejects the inherited name %s', (type) => {
      expectError(decodeOne(pack({ type })), 'UNKNOWN_TYPE');
    });
  });

  it('uses only codes from ERROR_CODES', () => {
    for (const code of ['FRAME_TOO_LARGE', 'MALFORMED', 'INVALID_FRAME', 'UNKNOWN_TYPE']) {
      expect(ERROR_CODES).toHaveProperty(code);
    }
  });

  it('returns the frames before the bad one in the same chunk', () => {
    const good = allClientFrames.slice(0, 3);
    const chunk = Buffer.concat([
      ...good.map((frame) => encodeFrame(frame)),
      framed(pack({ type: 'frobnicate' })),
      encodeFrame({ type: 'ping', nonce: 9 }),
    ]);
    const result = new FrameDecoder(clientFrameSchemas).push(chunk);
    expect(result.frames).toEqual(good);
    expectError(result, 'UNKNOWN_TYPE');
  });

  it('returns the frames before an oversized prefix in the same chunk', () => {
    const good = encodeFrame({ type: 'ping', nonce: 1 });
    const decoder = new FrameDecoder(clientFrameSchemas, { maxFrameBytes: 64 });
    const result = decoder.push(Buffer.concat([good, prefixOnly(65)]));
    expect(result.frames).toEqual([{ type: 'ping', nonce: 1 }]);
    expectError(result, 'FRAME_TOO_LARGE');
    expect(decoder.bufferedBytes).toBe(0);
  });

  it.each([
    ['FRAME_TOO_LARGE', prefixOnly(DEFAULT_MAX_FRAME_BYTES + 1)],
    ['MALFORMED', prefixOnly(0)],
    ['INVALID_FRAME', framed(pack({ type: 'ping' }))],
    ['UNKNOWN_TYPE', framed(pack({ type: 'welcome' }))],
  ] as const)('stays failed after %s, returning the same error and no frames', (code, bad) => {
    const decoder = new FrameDecoder(clientFrameSchemas);
    const first = expectError(decoder.push(bad), code);
    for (let i = 0; i < 3; i++) {
      const later = decoder.push(encodeFrame({ type: 'ping', nonce: i }));
      expect(later.frames).toEqual([]);
      expect(later.error).toBe(first);
      expect(decoder.bufferedBytes).toBe(0);
    }
  });

  it('reports deeply nested input as MALFORMED instead of overflowing the stack', () => {
    // {type: 'ping', nonce: [[[...[1]...]]]} nested half a million levels deep.
    const nested = Buffer.concat([
      Uint8Array.of(0x82),
      pack('type'),
      pack('ping'),
      pack('nonce'),
      Buffer.alloc(500_000, 0x91),
      Uint8Array.of(1),
    ]);
    expectError(new FrameDecoder(clientFrameSchemas).push(framed(nested)), 'MALFORMED');
  });
});

describe('HybridLogicalClock', () => {
  it('packs wall-clock milliseconds and a logical counter into one ordered integer', () => {
    expect(packHlc(t0, 0)).toBe(t0 * 1024);
    for (const logical of [0, 1, 511, 1023]) expect(hlcWallMs(packHlc(t0, logical))).toBe(t0);
    expect(packHlc(t0, 1023)).toBeLessThan(packHlc(t0 + 1, 0));
    expect(Number.isSafeInteger(packHlc(Date.UTC(2248, 0, 1), 1023))).toBe(true);
  });

  it('starts at 0 and follows the physical clock while it moves forward', () => {
    let now = t0;
    const clock = new HybridLogicalClock(() => now);
    expect(clock.current).toBe(0);
    expect(clock.tick()).toBe(packHlc(t0, 0));
    now += 5;
    expect(clock.tick()).toBe(packHlc(t0 + 5, 0));
    expect(clock.current).toBe(packHlc(t0 + 5, 0));
  });

  it('stays strictly increasing when the physical clock goes backwards', () => {
    const readings = [t0, t0 + 10, t0 - 2000, t0 - 2000, t0 + 3, t0 + 10, t0 + 11, t0 - 1, t0 + 50];
    let i = 0;
    const clock = new HybridLogicalClock(() => readings[i++]!);
    const ticks = readings.map(() => clock.tick());
    for (let k = 1; k < ticks.length; k++) expect(ticks[k]).toBeGreaterThan(ticks[k - 1]!);
    // While the clock is behind, the wall part holds at the latest reading seen.
    expect(hlcWallMs(ticks[2]!)).toBe(t0 + 10);
    expect(ticks.at(-1)).toBe(packHlc(t0 + 50, 0));
  });

  it('orders ticks after a larger observed remote value, and ignores smaller ones', () => {
    const clock = new HybridLogicalClock(() => t0);
    const local = clock.tick();
    const remote = packHlc(t0 + 60_000, 17);
    clock.observe(remote);
    expect(clock.current).toBe(remote);
    expect(clock.tick()).toBe(remote + 1);
    clock.observe(packHlc(t0 - 1, 0));
    clock.observe(local);
    expect(clock.current).toBe(remote + 1);
    expect(clock.tick()).toBe(remote + 2);
  });

  it('stays strictly increasing over more than 1024 ticks in one millisecond', () => {
    let now = t0;
    const clock = new HybridLogicalClock(() => now);
    const ticks = Array.from({ length: 3000 }, () => clock.tick());
    for (let k = 1; k < ticks.length; k++) expect(ticks[k]).toBe(ticks[k - 1]! + 1);
    // The counter runs into later milliseconds rather than repeating a value...
    expect(hlcWallMs(ticks[1024]!)).toBe(t0 + 1);
    expect(hlcWallMs(ticks.at(-1)!)).toBe(t0 + 2);
    // ...and the physical clock takes over again once it passes the logical one.
    now = t0 + 1;
    expect(clock.tick()).toBe(ticks.at(-1)! + 1);
    now = t0 + 3;
    expect(clock.tick()).toBe(packHlc(t0 + 3, 0));
  });
});
