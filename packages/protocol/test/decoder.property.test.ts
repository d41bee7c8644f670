import fc from 'fast-check';
import { pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import {
  type ClientFrame,
  clientFrameSchemas,
  encodeFrame,
  FrameDecoder,
  type FrameSchemas,
  LENGTH_PREFIX_BYTES,
  MAX_HISTORY_LIMIT,
  ProtocolError,
  type ServerFrame,
  serverFrameSchemas,
} from '../src/index.js';

// Fixed seed and bounded runs: the same cases on every run, a few seconds in all.
// To explore, change the seed; a failure prints the seed and path that reproduce it.
const runs = { seed: 0x6d657368, numRuns: 250 };
const MAX_FRAME_BYTES = 2048;
const DECODER_CODES = ['FRAME_TOO_LARGE', 'MALFORMED', 'INVALID_FRAME', 'UNKNOWN_TYPE'];

// Arbitraries for valid frames, within the bounds of the schemas.
const id = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 });
const text = fc.string({ unit: 'grapheme', maxLength: 80 });
const nat = fc.maxSafeNat();
const seq = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER });
const cursor = fc.dictionary(
  id.filter((key) => key !== '__proto__'),
  nat,
  { maxKeys: 4, noNullPrototype: true },
);
const sender = fc.record({ clientId: id, nick: id });
const member = fc.record({ clientId: id, nick: id, nodeId: id });
const messageId = fc.record({ room: id, origin: id, seq });
const chatMessage = fc.record({
  room: id,
  origin: id,
  seq,
  hlc: nat,
  from: sender,
  text,
  clientMsgId: id,
  sentAt: nat,
});
const nonceFrame = <T extends 'ping' | 'pong'>(type: T) =>
  fc.record({ type: fc.constant(type), nonce: fc.maxSafeInteger() });

const clientFrame: fc.Arbitrary<ClientFrame> = fc.oneof(
  fc.record(
    { type: fc.constant('hello'), version: fc.integer(), nick: id, clientId: id, inbox: cursor },
    { requiredKeys: ['type', 'version', 'nick', 'clientId'] },
  ),
  fc.record({ type: fc.constant('join'), reqId: nat, room: id, cursor }, { requiredKeys: ['type', 'reqId', 'room'] }),
  fc.record({ type: fc.constant('leave'), reqId: nat, room: id }),
  fc.record({ type: fc.constant('send'), room: id, text, clientMsgId: id }),
  fc.record({ type: fc.constant('dm'), to: id, text, clientMsgId: id }),
  fc.record({ type: fc.constant('inbox'), cursor }),
  fc.record({ type: fc.constant('bye') }),
  fc.record(
    {
      type: fc.constant('history'),
      reqId: nat,
      room: id,
      before: fc.record({ hlc: nat, origin: fc.string({ maxLength: 8 }), seq: nat }),
      limit: fc.integer({ min: 1, max: MAX_HISTORY_LIMIT }),
    },
    { requiredKeys: ['type', 'reqId', 'room', 'limit'] },
  ),
  fc.record({ type: fc.constant('rooms'), reqId: nat }),
  fc.record({ type: fc.constant('who'), reqId: nat, room: id }),
  nonceFrame('ping'),
  nonceFrame('pong'),
);

const serverFrame: fc.Arbitrary<ServerFrame> = fc.oneof(
  fc.record({
    type: fc.constant('welcome'),
    version: fc.integer(),
    nodeId: id,
    sessionId: id,
    clientId: id,
    nick: id,
    servers: fc.array(fc.string(), { maxLength: 4 }),
    inbox: cursor,
    limits: fc.record({
      maxMessageLength: fc.integer({ min: 1, max: 1 << 20 }),
      idleTimeoutMs: fc.integer({ min: 1, max: 1 << 20 }),
    }),
  }),
  fc.record({
    type: fc.constant('joined'),
    reqId: nat,
    room: id,
    members: fc.array(member, { maxLength: 3 }),
    history: fc.array(chatMessage, { maxLength: 3 }),
    cursor,
    complete: fc.boolean(),
  }),
  fc.record({ type: fc.constant('left'), reqId: nat, room: id }),
  fc.record({ type: fc.constant('ack'), clientMsgId: id, id: messageId }),
  chatMessage.map((message) => ({ type: 'message' as const, ...message })),
  fc.record({
    type: fc.constant('direct'),
    id: messageId,
    hlc: nat,
    from: sender,
    to: id,
    text,
    clientMsgId: id,
    sentAt: nat,
  }),
  fc.record({ type: fc.constant('inbox_replayed'), cursor, complete: fc.boolean() }),
  fc.record({ type: fc.constant('servers'), servers: fc.array(fc.string(), { maxLength: 4 }) }),
  fc.record({
    type: fc.constant('history_reply'),
    reqId: nat,
    room: id,
    messages: fc.array(chatMessage, { maxLength: 3 }),
    hasMore: fc.boolean(),
  }),
  fc.record({
    type: fc.constant('rooms_reply'),
    reqId: nat,
    rooms: fc.array(fc.record({ name: id, members: nat }), { maxLength: 4 }),
  }),
  fc.record({ type: fc.constant('who_reply'), reqId: nat, room: id, members: fc.array(member, { maxLength: 3 }) }),
  fc.record({ type: fc.constant('presence'), room: id, event: fc.constantFrom('joined', 'left'), member }),
  fc.record(
    { type: fc.constant('error'), code: id, message: text, reqId: nat, clientMsgId: id, fatal: fc.boolean() },
    { requiredKeys: ['type', 'code', 'message', 'fatal'] },
  ),
  nonceFrame('ping'),
  nonceFrame('pong'),
);

const directions: [string, FrameSchemas, fc.Arbitrary<ClientFrame | ServerFrame>][] = [
  ['client -> node', clientFrameSchemas, clientFrame],
  ['node -> client', serverFrameSchemas, serverFrame],
];

// Chunk sizes used in turn until the input is consumed: mostly small, sometimes large.
const chunking = fc.array(fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 700 })), {
  minLength: 1,
  maxLength: 12,
});

interface Feed {
  frames: { type: string }[];
  error: ProtocolError | undefined;
}

/**
 * Pushes `bytes` in chunks and checks the decoder's invariants after every push: no
 * throw, every frame passes its schema, an error is a ProtocolError with a decoder
 * code after which the decoder stays failed, and the buffer stays under one frame.
 */
function feed(schemas: FrameSchemas, bytes: Uint8Array, chunkSizes: number[]): Feed {
  const decoder = new FrameDecoder(schemas, { maxFrameBytes: MAX_FRAME_BYTES });
  const frames: { type: string }[] = [];
  let error: ProtocolError | undefined;
  for (let offset = 0, i = 0; offset < bytes.length; i++) {
    const size = chunkSizes[i % chunkSizes.length] ?? 1;
    const result = decoder.push(bytes.subarray(offset, offset + size));
    offset += size;
    if (error) {
      expect(result.frames).toEqual([]);
      expect(result.error).toBe(error);
    }
    for (const frame of result.frames as { type: string }[]) {
      expect(schemas[frame.type]?.safeParse(frame).success).toBe(true);
      frames.push(frame);
    }
    if (result.error) {
      expect(result.error).toBeInstanceOf(ProtocolError);
      expect(DECODER_CODES).toContain(result.error.code);
      error = result.error;
    }
    expect(decoder.bufferedBytes).toBeLessThanOrEqual(MAX_FRAME_BYTES + LENGTH_PREFIX_BYTES);
    if (error) expect(decoder.bufferedBytes).toBe(0);
  }
  return { frames, error };
}

function framed(payload: Uint8Array): Buffer {
  const out = Buffer.alloc(LENGTH_PREFIX_BYTES + payload.length);
  out.writeUInt32BE(payload.length, 0);
  out.set(payload, LENGTH_PREFIX_BYTES);
  return out;
}

type Mutation =
  | { kind: 'set'; at: number; byte: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; count: number }
  | { kind: 'truncate'; at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('set'), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('insert'), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('delete'), at: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('truncate'), at: fc.nat() }),
);

/** Applies the mutations in turn; returns the bytes and the first offset that may differ. */
function mutate(original: Buffer, mutations: Mutation[]): { bytes: Buffer; firstChanged: number } {
  let bytes = original;
  let firstChanged = original.length;
  for (const m of mutations) {
    const at = m.at % (bytes.length + 1);
    firstChanged = Math.min(firstChanged, at);
    if (m.kind === 'set') {
      if (at === bytes.length) continue;
      bytes = Buffer.from(bytes);
      bytes[at] = m.byte;
    } else if (m.kind === 'insert') {
      bytes = Buffer.concat([bytes.subarray(0, at), m.bytes, bytes.subarray(at)]);
    } else if (m.kind === 'delete') {
      bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.count)]);
    } else {
      bytes = bytes.subarray(0, at);
    }
  }
  return { bytes, firstChanged };
}

describe.each(directions)('FrameDecoder properties (%s)', (_, schemas, frame) => {
  it('decodes any valid frame stream, in any chunking, to the frames encoded', () => {
    fc.assert(
      fc.property(fc.array(frame, { minLength: 1, maxLength: 12 }), chunking, (frames, chunkSizes) => {
        const stream = Buffer.concat(frames.map((f) => encodeFrame(f)));
        // Only streams whose frames fit the limit: oversized ones are the error cases below.
        fc.pre(frames.every((f) => encodeFrame(f).length <= MAX_FRAME_BYTES + LENGTH_PREFIX_BYTES));
        const result = feed(schemas, stream, chunkSizes);
        expect(result.error).toBeUndefined();
        expect(result.frames).toEqual(frames);
      }),
      runs,
    );
  });

  it('turns random bytes in random chunks into schema-valid frames or a ProtocolError, never a throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), chunking, (bytes, chunkSizes) => {
        feed(schemas, bytes, chunkSizes);
      }),
      runs,
    );
  });

  it('survives random payloads behind plausible length prefixes', () => {
    // Random bytes rarely start with a small length; these always do, so the payload
    // decoding and schema paths see garbage too.
    const payload = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc.jsonValue({ maxDepth: 3 }).map((value) => pack(value)),
      fc
        .record({
          type: fc.constantFrom(...Object.keys(clientFrameSchemas), ...Object.keys(serverFrameSchemas), 'nope'),
          fields: fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }), { noNullPrototype: true }),
        })
        .map(({ type, fields }) => pack({ ...fields, type })),
    );
    const stream = fc.array(
      fc.oneof(
        { arbitrary: payload.map((p) => framed(p)), weight: 3 },
        { arbitrary: frame.map((f) => encodeFrame(f)), weight: 1 },
      ),
      { minLength: 1, maxLength: 8 },
    );
    fc.assert(
      fc.property(stream, chunking, (parts, chunkSizes) => {
        feed(schemas, Buffer.concat(parts), chunkSizes);
      }),
      { ...runs, numRuns: runs.numRuns * 2 },
    );
  });

  it('keeps the frames before a mutation and never throws on mutated, truncated or padded streams', () => {
    fc.assert(
      fc.property(
        fc.array(frame, { minLength: 1, maxLength: 8 }),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        chunking,
        (frames, mutations, chunkSizes) => {
          const encoded = frames.map((f) => encodeFrame(f));
          fc.pre(encoded.every((bytes) => bytes.length <= MAX_FRAME_BYTES + LENGTH_PREFIX_BYTES));
          const { bytes, firstChanged } = mutate(Buffer.concat(encoded), mutations);
          const result = feed(schemas, bytes, chunkSizes);
          const ends = encoded.map((_, i) => Buffer.concat(encoded.slice(0, i + 1)).length);
          const intact = ends.filter((end) => end <= firstChanged).length;
          expect(result.frames.slice(0, intact)).toEqual(frames.slice(0, intact));
        },
      ),
      runs,
    );
  });
});
