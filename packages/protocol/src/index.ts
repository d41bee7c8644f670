/**
 * @packageDocumentation
 * meshchat's wire format: zod schemas for every frame, the types inferred from them,
 * `encodeFrame` and a streaming `FrameDecoder`.
 *
 * ```ts
 * import { encodeFrame, FrameDecoder, clientFrameSchemas, PROTOCOL_VERSION } from '@meshchat/protocol';
 * socket.write(encodeFrame({ type: 'hello', version: PROTOCOL_VERSION, nick: 'alice', clientId: 'c1' }));
 * const decoder = new FrameDecoder(clientFrameSchemas, { maxFrameBytes: 65536 });
 * const { frames, error } = decoder.push(chunk);
 * ```
 */

export * from './address.js';
export * from './backoff.js';
export * from './codec.js';
export * from './constants.js';
export * from './errors.js';
export * from './hlc.js';
export * from './schemas/client-frames.js';
export * from './schemas/common.js';
export * from './schemas/peer-frames.js';
export * from './schemas/server-frames.js';
