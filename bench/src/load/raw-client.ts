import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  encodeFrame,
  FrameDecoder,
  LENGTH_PREFIX_BYTES,
  PROTOCOL_VERSION,
  type ServerFrame,
  type ServerFrameOf,
  serverFrameSchemas,
} from '@meshchat/protocol';
import { hasType } from './msgpack-peek.js';

// Bigger than any frame a node sends a client (history replies stay under 256 KiB).
const MAX_FRAME_BYTES = 16 * 1024 * 1024;
const REPLY_TIMEOUT_MS = 10_000;

const FAST_TYPES = ['message', 'ack'] as const;
export type FastType = (typeof FAST_TYPES)[number];

export interface RawClientHandlers {
  /**
   * A frame of one of the fast types, undecoded: its msgpack payload is buf[start, end).
   * The bytes belong to the socket's chunk; read them now, keep nothing. `receivedAtUs`
   * is when the chunk was read, on performance.now()'s clock in microseconds.
   */
  onRawFrame?(type: FastType, buf: Buffer, start: number, end: number, receivedAtUs: number): void;
  /** Every other frame, decoded and validated by the protocol's FrameDecoder. */
  onFrame?(frame: ServerFrame): void;
  onClose?(): void;
}

interface Waiter {
  type: ServerFrame['type'];
  resolve(frame: ServerFrame): void;
  reject(error: Error): void;
}

/**
 * A bare client connection for load generation. A chat client decodes and validates
 * every frame, at ~9 us each: at 16,000 msgs/s to 30 receivers that is more CPU than the
 * nodes spend. So this one splits the byte stream into frames itself, hands frames of
 * the "fast" types (message, ack) over as raw bytes, and decodes only the rest with
 * FrameDecoder. `validate` decodes a fast frame fully, for sampled checks.
 */
export class RawClient {
  isClosed = false;
  /** Error frames received, by code. */
  readonly errorCodes = new Map<string, number>();
  private readonly decoder = new FrameDecoder(serverFrameSchemas, { maxFrameBytes: MAX_FRAME_BYTES });
  private readonly waiters: Waiter[] = [];
  private nextReqId = 1;
  // A frame split across chunks, filled as they arrive; `header` until its length is known.
  private header = Buffer.alloc(LENGTH_PREFIX_BYTES);
  private headerFilled = 0;
  private partial: Buffer | undefined;
  private partialFilled = 0;
  // Every frame of a chunk arrived with it: one clock reading serves them all.
  private chunkReceivedAtUs = 0;

  private constructor(
    private readonly socket: Socket,
    private readonly handlers: RawClientHandlers,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {
      // 'close' follows.
    });
    socket.on('close', () => {
      this.isClosed = true;
      for (const waiter of this.waiters.splice(0)) waiter.reject(new Error('connection closed'));
      handlers.onClose?.();
    });
  }

  static connect(address: string, handlers: RawClientHandlers = {}): Promise<RawClient> {
    const index = address.lastIndexOf(':');
    return new Promise((resolve, reject) => {
      const socket = connect({ host: address.slice(0, index), port: Number(address.slice(index + 1)) });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawClient(socket, handlers));
      });
    });
  }

  /** Hello, then the node's welcome. */
  async hello(nick: string, clientId: string): Promise<ServerFrameOf<'welcome'>> {
    const reply = this.expect('welcome');
    this.send({ type: 'hello', version: PROTOCOL_VERSION, nick, clientId });
    return (await reply) as ServerFrameOf<'welcome'>;
  }

  async join(room: string): Promise<ServerFrameOf<'joined'>> {
    const reply = this.expect('joined');
    this.send({ type: 'join', reqId: this.nextReqId++, room });
    return (await reply) as ServerFrameOf<'joined'>;
  }

  async leave(room: string): Promise<ServerFrameOf<'left'>> {
    const reply = this.expect('left');
    this.send({ type: 'leave', reqId: this.nextReqId++, room });
    return (await reply) as ServerFrameOf<'left'>;
  }

  /** The newest `limit` messages of a room. */
  async history(room: string, limit: number): Promise<ServerFrameOf<'history_reply'>> {
    const reply = this.expect('history_reply');
    this.send({ type: 'history', reqId: this.nextReqId++, room, limit });
    return (await reply) as ServerFrameOf<'history_reply'>;
  }

  /**
   * When the last chunk was read, in microseconds of performance.now(). Read right after
   * a reply resolves, it is when the reply's last byte arrived: its decoding excluded.
   */
  get lastReceivedAtUs(): number {
    return this.chunkReceivedAtUs;
  }

  ping(): void {
    this.send({ type: 'ping', nonce: this.nextReqId++ });
  }

  send(frame: object): void {
    this.write(encodeFrame(frame));
  }

  write(bytes: Uint8Array): void {
    if (!this.isClosed) this.socket.write(bytes);
  }

  close(): void {
    this.socket.destroy();
  }

  /** Decodes one whole frame (length prefix included) with the protocol's decoder. */
  static validate(frame: Buffer): ServerFrame | Error {
    const { frames, error } = new FrameDecoder(serverFrameSchemas, { maxFrameBytes: MAX_FRAME_BYTES }).push(frame);
    if (error) return error;
    return frames[0] ?? new Error('no complete frame');
  }

  private expect(type: ServerFrame['type']): Promise<ServerFrame> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(new Error(`no ${type} frame within ${REPLY_TIMEOUT_MS} ms`));
      }, REPLY_TIMEOUT_MS);
      const settle =
        <T>(fn: (value: T) => void) =>
        (value: T) => {
          clearTimeout(timer);
          fn(value);
        };
      const waiter: Waiter = { type, resolve: settle(resolve), reject: settle(reject) };
      this.waiters.push(waiter);
    });
  }

  private onData(chunk: Buffer): void {
    try {
      this.splitFrames(chunk);
    } catch (err) {
      // A broken stream cannot be resynchronised: count it and drop the connection.
      this.bump('BAD_STREAM');
      this.socket.destroy(err as Error);
    }
  }

  private splitFrames(chunk: Buffer): void {
    this.chunkReceivedAtUs = Math.round(performance.now() * 1000);
    let offset = 0;
    if (this.headerFilled > 0 || this.partial) {
      offset = this.continuePartial(chunk);
      if (offset < 0) return;
    }
    while (chunk.length - offset >= LENGTH_PREFIX_BYTES) {
      const end = offset + LENGTH_PREFIX_BYTES + this.checkedLength(chunk.readUInt32BE(offset));
      if (end > chunk.length) {
        this.startPartial(chunk, offset, end - offset);
        return;
      }
      this.dispatch(chunk, offset, end);
      offset = end;
    }
    if (offset < chunk.length) {
      chunk.copy(this.header, 0, offset);
      this.headerFilled = chunk.length - offset;
    }
  }

  // Completes the frame begun in earlier chunks; returns where the next frame starts in
  // `chunk`, or -1 when the chunk was used up.
  private continuePartial(chunk: Buffer): number {
    let offset = 0;
    if (!this.partial) {
      const take = Math.min(LENGTH_PREFIX_BYTES - this.headerFilled, chunk.length);
      chunk.copy(this.header, this.headerFilled, 0, take);
      this.headerFilled += take;
      offset = take;
      if (this.headerFilled < LENGTH_PREFIX_BYTES) return -1;
      this.headerFilled = 0;
      const length = LENGTH_PREFIX_BYTES + this.checkedLength(this.header.readUInt32BE(0));
      this.partial = Buffer.allocUnsafe(length);
      this.header.copy(this.partial, 0);
      this.partialFilled = LENGTH_PREFIX_BYTES;
    }
    const frame = this.partial;
    const take = Math.min(frame.length - this.partialFilled, chunk.length - offset);
    chunk.copy(frame, this.partialFilled, offset, offset + take);
    this.partialFilled += take;
    offset += take;
    if (this.partialFilled < frame.length) return -1;
    this.partial = undefined;
    this.dispatch(frame, 0, frame.length);
    return offset;
  }

  private startPartial(chunk: Buffer, offset: number, length: number): void {
    this.partial = Buffer.allocUnsafe(length);
    chunk.copy(this.partial, 0, offset);
    this.partialFilled = chunk.length - offset;
  }

  private checkedLength(length: number): number {
    if (length === 0 || length > MAX_FRAME_BYTES) throw new Error(`bad frame length ${length} from the node`);
    return length;
  }

  private dispatch(buf: Buffer, start: number, end: number): void {
    const payloadStart = start + LENGTH_PREFIX_BYTES;
    // Nodes put "type" first in every frame (encodeFrame of `{ type, ...fields }`); a
    // frame laid out otherwise just takes the decoding path.
    const { onRawFrame } = this.handlers;
    if (onRawFrame) {
      for (const type of FAST_TYPES) {
        if (!hasType(buf, payloadStart, end, type)) continue;
        onRawFrame(type, buf, payloadStart, end, this.chunkReceivedAtUs);
        return;
      }
    }
    const { frames, error } = this.decoder.push(buf.subarray(start, end));
    for (const frame of frames) this.onDecoded(frame);
    if (error) {
      this.bump(error.code);
      this.socket.destroy();
    }
  }

  private onDecoded(frame: ServerFrame): void {
    if (frame.type === 'ping') this.send({ type: 'pong', nonce: frame.nonce });
    if (frame.type === 'error') {
      this.bump(frame.code);
      // During setup an error answers the request being waited for.
      const waiter = this.waiters.shift();
      waiter?.reject(new Error(`${frame.code}: ${frame.message}`));
    }
    const index = this.waiters.findIndex((w) => w.type === frame.type);
    if (index >= 0) this.waiters.splice(index, 1)[0]?.resolve(frame);
    this.handlers.onFrame?.(frame);
  }

  private bump(code: string): void {
    this.errorCodes.set(code, (this.errorCodes.get(code) ?? 0) + 1);
  }
}
