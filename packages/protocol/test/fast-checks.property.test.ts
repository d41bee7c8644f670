import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { fastCheckFor } from '../src/fast-checks.js';
import { MAX_ID_LENGTH, MAX_NAME_LENGTH, MessageFrame, SendFrame, SyncBatchFrame } from '../src/index.js';

const runs = { seed: 0x66617374, numRuns: 2000 };

// Values near every bound the schemas set, and of every wrong kind.
const edgyString = fc.oneof(
  fc.constant(''),
  fc.string({ minLength: 1, maxLength: 8 }),
  fc.constant('x'.repeat(MAX_NAME_LENGTH)),
  fc.constant('x'.repeat(MAX_NAME_LENGTH + 1)),
  fc.constant('x'.repeat(MAX_ID_LENGTH + 1)),
);
const edgyNumber = fc.oneof(
  fc.constantFrom(0, 1, -1, 0.5, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, Number.NaN, Infinity),
  fc.integer(),
  fc.maxSafeNat(),
);
const anything = fc.oneof(edgyString, edgyNumber, fc.constant(null), fc.boolean(), fc.constant([]), fc.constant({}));
const field = (valid: fc.Arbitrary<unknown>) =>
  fc.oneof({ weight: 15, arbitrary: valid }, { weight: 1, arbitrary: anything });
const goodString = fc.string({ minLength: 1, maxLength: 12 });
const goodInt = fc.maxSafeNat();

// Mostly valid frames with, now and then, a wrong field, a missing one or an extra one.
function nearly(record: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Record<string, unknown>> {
  const fields = Object.fromEntries(Object.entries(record).map(([k, v]) => [k, field(v)]));
  return fc
    .tuple(
      fc.record(fields),
      fc.constantFrom('none', 'none', 'none', 'drop', 'extra'),
      fc.constantFrom(...Object.keys(record)),
    )
    .map(([frame, change, key]) => {
      const out: Record<string, unknown> = { ...frame };
      if (change === 'drop') delete out[key];
      if (change === 'extra') out.extra = 1;
      return out;
    });
}

const sends = nearly({
  type: fc.constantFrom('send', 'send', 'send', 'sent'),
  room: goodString,
  text: fc.string(),
  clientMsgId: goodString,
});
const messages = nearly({
  type: fc.constantFrom('message', 'message', 'message', 'send'),
  room: goodString,
  origin: goodString,
  seq: goodInt.map((n) => n + 1),
  hlc: goodInt,
  from: fc.oneof(
    { weight: 6, arbitrary: fc.record({ clientId: goodString, nick: goodString }) },
    { weight: 1, arbitrary: fc.record({ clientId: goodString, nick: goodString, extra: fc.constant(1) }) },
    { weight: 1, arbitrary: anything },
  ),
  text: fc.string(),
  clientMsgId: goodString,
  sentAt: goodInt,
});

// Batches of such messages (without `type`), with floors, now and then a bad element.
const batchMessages = messages.map(({ type: _, ...message }) => message);
const floors = nearly({ room: goodString, origin: goodString, seq: goodInt });
const batches = nearly({
  type: fc.constantFrom('sync_batch', 'sync_batch', 'sync_batch', 'message'),
  floors: fc.array(floors, { maxLength: 2 }),
  messages: fc.array(batchMessages, { maxLength: 2 }),
});

function holdsToSchema(schema: z.ZodType, frames: fc.Arbitrary<Record<string, unknown>>): void {
  const check = fastCheckFor(schema);
  if (!check) throw new Error('no fast check for this schema');
  let accepted = 0;
  fc.assert(
    fc.property(frames, (frame) => {
      if (!check(frame)) return;
      accepted++;
      // Whatever the hand check lets through, the schema accepts, unchanged.
      const parsed = schema.safeParse(frame);
      expect(parsed.success).toBe(true);
      expect(parsed.data).toEqual(frame);
    }),
    runs,
  );
  // And it lets through most valid frames, or it would save nothing.
  expect(accepted).toBeGreaterThan(runs.numRuns / 20);
}

describe('fast checks of the hot frames', () => {
  it('accept only send frames the SendFrame schema accepts as they are', () => holdsToSchema(SendFrame, sends));
  it('accept only message frames the MessageFrame schema accepts as they are', () =>
    holdsToSchema(MessageFrame, messages));
  it('accept only sync_batch frames the SyncBatchFrame schema accepts as they are', () =>
    holdsToSchema(SyncBatchFrame, batches));
});
