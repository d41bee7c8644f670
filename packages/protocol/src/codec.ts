import { Packr } from 'msgpackr';
import type { z } from 'zod';
import { DEFAULT_MAX_FRAME_BYTES, LENGTH_PREFIX_BYTES } from './constants.js';
import { ProtocolError } from './errors.js';
import { fastCheckFor } from './fast-checks.js';
import type { ChatMessage } from './schemas/common.js';

// Encode plain msgpack maps only: records would make frames unreadable to other
// msgpack implementations. The decoder still understands msgpackr's extensions, so
// decodePayload accepts nothing but a plain map and the schemas check the rest.
const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false, int64AsType: 'number' });

// The codec runs in Node and in browsers (the web client bundles it), so it speaks
// Uint8Array. In Node it allocates Buffers (a Uint8Array) from Node's pool: every
// message is encoded on its way through, and a zero-filled allocation costs more.
const allocBytes: (size: number) => Uint8Array =
  typeof Buffer === 'function' ? (size) => Buffer.allocUnsafe(size) : (size) => new Uint8Array(size);

/** Encodes one frame: a 4-byte big-endian payload length, then one msgpack map. */
export function encodeFrame(frame: object): Uint8Array {
  const payload = packr.pack(frame);
  const out = allocBytes(LENGTH_PREFIX_BYTES + payload.length);
  writeLength(out, payload.length);
  out.set(payload, LENGTH_PREFIX_BYTES);
  return out;
}

/**
 * A chat message as the `message` frame clients get and peers relay: the same bytes
 * serve every recipient, the relay and the store.
 */
export function encodeMessageFrame(message: ChatMessage): Uint8Array {
  return encodeFrame({ type: 'message', ...message });
}

function writeLength(out: Uint8Array, length: number): void {
  out[0] = length >>> 24;
  out[1] = (length >>> 16) & 0xff;
  out[2] = (length >>> 8) & 0xff;
  out[3] = length & 0xff;
}

function readLength(bytes: Uint8Array, offset: number): number {
  return (
    (bytes[offset] as number) * 0x1000000 +
    (((bytes[offset + 1] as number) << 16) | ((bytes[offset + 2] as number) << 8) | (bytes[offset + 3] as number))
  );
}

/**
 * Reads a payload this node encoded itself and kept (a stored frame): no schema check,
 * since it passed one on the way in. Never for bytes from a connection.
 */
export function unpackTrusted(payload: Uint8Array): unknown {
  return packr.unpack(payload);
}

// Per-message overhead beside its strings in an encoded frame (keys, ids, numbers).
const MESSAGE_OVERHEAD_BYTES = 160;

/**
 * An upper estimate of a chat message's encoded size, without encoding it: strings
 * count 3 bytes per UTF-16 unit. For cutting replies and batches to a byte budget.
 */
export function estimateMessageBytes(message: ChatMessage): number {
  const strings =
    message.text.length +
    message.room.length +
    message.origin.length +
    message.from.clientId.length +
    message.from.nick.length +
    message.clientMsgId.length;
  return MESSAGE_OVERHEAD_BYTES + 3 * strings;
}

export type FrameSchemas = Readonly<Record<string, z.ZodType>>;
type FrameOf<S extends FrameSchemas> = z.infer<S[keyof S]>;

export interface DecodeResult<T> {
  frames: T[];
  // Set when the stream became invalid; frames before the problem are still returned.
  // The decoder stays failed: the byte stream can no longer be trusted.
  error?: ProtocolError;
}

export interface FrameDecoderOptions {
  maxFrameBytes?: number;
}

/**
 * Streaming decoder: feed it socket chunks in any split, get validated frames.
 * A declared length over maxFrameBytes is rejected as soon as the 4-byte prefix is
 * seen, before any of the payload is buffered. A frame split over many chunks is
 * copied once into a buffer of its declared size, so reassembly stays linear however
 * small the chunks are; frames that arrive whole are decoded in place.
 */
export class FrameDecoder<S extends FrameSchemas> {
  private maxFrameBytes: number;
  private readonly header = new Uint8Array(LENGTH_PREFIX_BYTES);
  private headerFilled = 0;
  private body: Uint8Array | undefined;
  private bodyFilled = 0;
  private failure: ProtocolError | undefined;

  constructor(
    private readonly schemas: S,
    options: FrameDecoderOptions = {},
  ) {
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  }

  /**
   * Changes the limit for frames whose length prefix has not been read yet, e.g. to
   * allow larger frames once a peer has authenticated.
   */
  setMaxFrameBytes(maxFrameBytes: number): void {
    this.maxFrameBytes = maxFrameBytes;
  }

  /** Bytes of the frame in progress received so far, prefix included; at most one frame. */
  get bufferedBytes(): number {
    return this.body ? this.bodyFilled : this.headerFilled;
  }

  push(chunk: Uint8Array): DecodeResult<FrameOf<S>> {
    const frames: FrameOf<S>[] = [];
    const error = this.pushEach(chunk, (frame) => frames.push(frame));
    return error ? { frames, error } : { frames };
  }

  /**
   * Like push, but hands each frame to `onFrame` as soon as it is decoded, before the
   * rest of the chunk is read: a consumer may change the limits (setMaxFrameBytes)
   * between frames. `raw` is the frame's bytes as received, length prefix included,
   * so a relay can pass them on without encoding the frame again (it may share memory
   * with the chunk). Returns the error that failed the stream, if any. Errors thrown
   * by `onFrame` are the caller's and propagate unchanged.
   */
  pushEach(chunk: Uint8Array, onFrame: (frame: FrameOf<S>, raw: Uint8Array) => void): ProtocolError | undefined {
    if (this.failure) return this.failure;
    let offset = 0;
    while (offset < chunk.length) {
      let decoded: { frame: FrameOf<S>; raw: Uint8Array } | undefined;
      try {
        [decoded, offset] = this.nextFrame(chunk, offset);
      } catch (err) {
        this.failure = err instanceof ProtocolError ? err : new ProtocolError('MALFORMED', String(err), { cause: err });
        this.headerFilled = 0;
        this.body = undefined;
        this.bodyFilled = 0;
        return this.failure;
      }
      if (decoded) onFrame(decoded.frame, decoded.raw);
    }
    return undefined;
  }

  // Reads from `offset` until one frame is complete or the chunk is used up.
  private nextFrame(buf: Uint8Array, start: number): [{ frame: FrameOf<S>; raw: Uint8Array } | undefined, number] {
    let offset = start;
    while (offset < buf.length) {
      if (this.body) {
        const body = this.body;
        const take = Math.min(body.length - this.bodyFilled, buf.length - offset);
        body.set(buf.subarray(offset, offset + take), this.bodyFilled);
        this.bodyFilled += take;
        offset += take;
        if (this.bodyFilled < body.length) continue;
        this.body = undefined;
        this.bodyFilled = 0;
        return [{ frame: this.decodePayload(body.subarray(LENGTH_PREFIX_BYTES)), raw: body }, offset];
      }
      if (this.headerFilled === 0 && buf.length - offset >= LENGTH_PREFIX_BYTES) {
        const length = this.checkLength(readLength(buf, offset));
        const end = offset + LENGTH_PREFIX_BYTES + length;
        if (end <= buf.length) {
          const raw = buf.subarray(offset, end);
          return [{ frame: this.decodePayload(raw.subarray(LENGTH_PREFIX_BYTES)), raw }, end];
        }
        this.startBody(length);
        offset += LENGTH_PREFIX_BYTES;
        continue;
      }
      const take = Math.min(LENGTH_PREFIX_BYTES - this.headerFilled, buf.length - offset);
      this.header.set(buf.subarray(offset, offset + take), this.headerFilled);
      this.headerFilled += take;
      offset += take;
      if (this.headerFilled === LENGTH_PREFIX_BYTES) {
        this.headerFilled = 0;
        this.startBody(this.checkLength(readLength(this.header, 0)));
      }
    }
    return [undefined, offset];
  }

  private checkLength(length: number): number {
    if (length > this.maxFrameBytes) {
      throw new ProtocolError(
        'FRAME_TOO_LARGE',
        `frame of ${length} bytes exceeds maxFrameBytes ${this.maxFrameBytes}`,
      );
    }
    if (length === 0) throw new ProtocolError('MALFORMED', 'frame has an empty payload');
    return length;
  }

  // The frame in progress is kept whole, prefix included, so it can be passed on as is.
  private startBody(length: number): void {
    this.body = allocBytes(LENGTH_PREFIX_BYTES + length);
    writeLength(this.body, length);
    this.bodyFilled = LENGTH_PREFIX_BYTES;
  }

  private decodePayload(payload: Uint8Array): FrameOf<S> {
    let value: unknown;
    try {
      value = packr.unpack(payload);
    } catch (err) {
      throw new ProtocolError('MALFORMED', `payload is not valid msgpack: ${truncate((err as Error).message, 120)}`, {
        cause: err,
      });
    }
    // msgpackr turns bin, ext and records into other objects; only a plain map is a frame.
    if (value === null || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) {
      throw new ProtocolError('MALFORMED', `payload must be a msgpack map, got ${describe(value)}`);
    }
    const type = (value as { type?: unknown }).type;
    if (typeof type !== 'string') {
      throw new ProtocolError('INVALID_FRAME', `frame field "type": expected a string, got ${describe(type)}`);
    }
    const schema = Object.hasOwn(this.schemas, type) ? this.schemas[type] : undefined;
    if (!schema) throw new ProtocolError('UNKNOWN_TYPE', `unknown frame type "${truncate(type)}"`);
    if (fastCheckFor(schema)?.(value as Record<string, unknown>)) return value as FrameOf<S>;
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue && issue.path.length > 0 ? issue.path.join('.') : '(frame)';
      throw new ProtocolError(
        'INVALID_FRAME',
        `${truncate(type)} frame field "${field}": ${issue?.message ?? 'invalid'}`,
      );
    }
    return parsed.data as FrameOf<S>;
  }
}

function describe(value: unknown): string {
  if (value === null) return 'nil';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Uint8Array) return 'binary';
  if (typeof value === 'object' && Object.getPrototypeOf(value) !== Object.prototype) return 'an extension value';
  return typeof value;
}

function truncate(text: string, max = 40): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
