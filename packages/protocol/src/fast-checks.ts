import type { z } from 'zod';
import { MAX_ID_LENGTH, MAX_NAME_LENGTH, MAX_TEXT_LENGTH } from './constants.js';
import { SendFrame } from './schemas/client-frames.js';
import { SyncBatchFrame } from './schemas/peer-frames.js';
import { MessageFrame } from './schemas/server-frames.js';

// The frames every message passes through (a client's send, a relayed message, an
// anti-entropy batch of up to a thousand) are
// validated by hand first: a plain check of what the zod schema would accept, about ten
// times cheaper. A frame it does not accept as is (a wrong field, an extra key that
// zod would strip) goes to the schema, which decides and names the problem. So the
// schema stays the one definition; a property test holds each check to it.

type Check = (value: Record<string, unknown>) => boolean;

const isString = (v: unknown, min: number, max: number): boolean =>
  typeof v === 'string' && v.length >= min && v.length <= max;
const isId = (v: unknown) => isString(v, 1, MAX_ID_LENGTH);
const isName = (v: unknown) => isString(v, 1, MAX_NAME_LENGTH);
const isInt = (v: unknown, min: number) => Number.isSafeInteger(v) && (v as number) >= min;

function hasExactly(value: object, count: number): boolean {
  let n = 0;
  for (const _ in value) n++;
  return n === count;
}

function isSender(v: unknown): boolean {
  if (v === null || typeof v !== 'object' || Object.getPrototypeOf(v) !== Object.prototype) return false;
  const sender = v as Record<string, unknown>;
  return hasExactly(sender, 2) && isId(sender.clientId) && isName(sender.nick);
}

const checkSend: Check = (f) =>
  hasExactly(f, 4) &&
  f.type === 'send' &&
  isName(f.room) &&
  isString(f.text, 0, MAX_TEXT_LENGTH) &&
  isId(f.clientMsgId);

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype;

// A message's fields, whether in a `message` frame (which adds `type`) or a batch.
const hasMessageFields = (f: Record<string, unknown>): boolean =>
  isName(f.room) &&
  isId(f.origin) &&
  isInt(f.seq, 1) &&
  isInt(f.hlc, 0) &&
  isSender(f.from) &&
  isString(f.text, 0, MAX_TEXT_LENGTH) &&
  isId(f.clientMsgId) &&
  isInt(f.sentAt, 0);

const checkMessage: Check = (f) => hasExactly(f, 9) && f.type === 'message' && hasMessageFields(f);

const isBatchMessage = (m: unknown): boolean => isPlainObject(m) && hasExactly(m, 8) && hasMessageFields(m);
const isFloor = (v: unknown): boolean =>
  isPlainObject(v) && hasExactly(v, 3) && isName(v.room) && isId(v.origin) && isInt(v.seq, 0);

const checkSyncBatch: Check = (f) =>
  hasExactly(f, 3) &&
  f.type === 'sync_batch' &&
  Array.isArray(f.floors) &&
  f.floors.every(isFloor) &&
  Array.isArray(f.messages) &&
  f.messages.every(isBatchMessage);

const checks = new Map<z.ZodType, Check>([
  [SendFrame, checkSend],
  [MessageFrame, checkMessage],
  [SyncBatchFrame, checkSyncBatch],
]);

/** The hand check that stands in for `schema` when it accepts a frame, if there is one. */
export function fastCheckFor(schema: z.ZodType): Check | undefined {
  return checks.get(schema);
}
