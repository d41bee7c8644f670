import { Packr } from 'msgpackr';
import type { z } from 'zod';
import { DEFAULT_MAX_FRAME_BYTES, LENGTH_PREFIX_BYTES } from './constants.js';
import { ProtocolError } from './errors.js';

// Plain msgpack maps only: records and other msgpackr extensions would make frames
// unreadable to other msgpack implementations and give a hostile peer more decoder
// surface. Timestamps are plain integers in our schemas, so no extension is needed.
const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false, int64AsType: 'number' });

/** Encodes one frame: a 4-byte big-endian payload length, then one msgpack map. */
export function encodeFrame(frame: object): Buffer {
  const payload = packr.pack(frame);
  const out = Buffer.allocUnsafe(LENGTH_PREFIX_BYTES + payload.length);
  out.writeUInt32BE(payload.length, 0);
  payload.copy(out, LENGTH_PREFIX_BYTES);
  return out;
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
 * seen, before any of the payload is buffered.
 */
export class FrameDecoder<S extends FrameSchemas> {
  private readonly maxFrameBytes: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private failure: ProtocolError | undefined;

  constructor(
    private readonly schemas: S,
    options: FrameDecoderOptions = {},
  ) {
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  }

  /** Bytes held waiting for the rest of a frame; never more than one frame's worth. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  push(chunk: Uint8Array): DecodeResult<FrameOf<S>> {
    const frames: FrameOf<S>[] = [];
    if (this.failure) return { frames, error: this.failure };
    let buf = this.take(chunk);
    let offset = 0;
    try {
      while (buf.length - offset >= LENGTH_PREFIX_BYTES) {
        const length = buf.readUInt32BE(offset);
        if (length > this.maxFrameBytes) {
          throw new ProtocolError(
            'FRAME_TOO_LARGE',
            `frame of ${length} bytes exceeds maxFrameBytes ${this.maxFrameBytes}`,
          );
        }
        if (length === 0) throw new ProtocolError('MALFORMED', 'frame has an empty payload');
        const end = offset + LENGTH_PREFIX_BYTES + length;
        if (buf.length < end) break;
        frames.push(this.decodePayload(buf.subarray(offset + LENGTH_PREFIX_BYTES, end)));
        offset = end;
      }
    } catch (err) {
      this.failure = err instanceof ProtocolError ? err : new ProtocolError('MALFORMED', String(err), { cause: err });
      this.pending = [];
      this.pendingBytes = 0;
      return { frames, error: this.failure };
    }
    buf = buf.subarray(offset);
    this.pending = buf.length > 0 ? [buf] : [];
    this.pendingBytes = buf.length;
    return { frames };
  }

  // Joins what was pending with the new chunk; the common case (no remainder) copies nothing.
  private take(chunk: Uint8Array): Buffer {
    const incoming = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.pendingBytes === 0) return incoming;
    return Buffer.concat([...this.pending, incoming], this.pendingBytes + incoming.length);
  }

  private decodePayload(payload: Buffer): FrameOf<S> {
    let value: unknown;
    try {
      value = packr.unpack(payload);
    } catch (err) {
      throw new ProtocolError('MALFORMED', `payload is not valid msgpack: ${truncate((err as Error).message, 120)}`, {
        cause: err,
      });
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new ProtocolError('MALFORMED', `payload must be a msgpack map, got ${describe(value)}`);
    }
    const type = (value as { type?: unknown }).type;
    if (typeof type !== 'string') {
      throw new ProtocolError('INVALID_FRAME', `frame field "type": expected a string, got ${describe(type)}`);
    }
    const schema = Object.hasOwn(this.schemas, type) ? this.schemas[type] : undefined;
    if (!schema) throw new ProtocolError('UNKNOWN_TYPE', `unknown frame type "${truncate(type)}"`);
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
  return typeof value;
}

function truncate(text: string, max = 40): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
