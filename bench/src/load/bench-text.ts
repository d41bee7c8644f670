import { TEXT_BYTES } from '../constants.js';

// The text of every fan-out message carries its own identity and send time, in fixed
// ASCII fields a receiver reads straight from the frame bytes:
//   "mb|PP|NNNNNNNNN|TTTTTTTTTTTT|xxxx…" (padded to TEXT_BYTES)
// PP is the publisher, NNNNNNNNN its message number (from 0), TTTTTTTTTTTT the send
// time in microseconds of the generator's monotonic clock. Sender and receivers live
// in the one generator process, so the clocks agree exactly.

const MARKER = 'mb|';
const PUBLISHER_DIGITS = 2;
const NUMBER_DIGITS = 9;
const TIME_DIGITS = 12;
const PUBLISHER_AT = MARKER.length;
const NUMBER_AT = PUBLISHER_AT + PUBLISHER_DIGITS + 1;
const TIME_AT = NUMBER_AT + NUMBER_DIGITS + 1;
const HEADER_LENGTH = TIME_AT + TIME_DIGITS + 1;
const PADDING = 'x'.repeat(TEXT_BYTES - HEADER_LENGTH);

export function benchText(publisher: number, n: number, sentAtUs: number): string {
  const pad = (value: number, digits: number) => String(value).padStart(digits, '0');
  return `${MARKER}${pad(publisher, PUBLISHER_DIGITS)}|${pad(n, NUMBER_DIGITS)}|${pad(sentAtUs, TIME_DIGITS)}|${PADDING}`;
}

/** The clientMsgId of a message: the same identity as its text, so a sample can check both agree. */
export function benchClientMsgId(publisher: number, n: number): string {
  return `p${publisher}-${n}`;
}

export interface BenchTextFields {
  publisher: number;
  n: number;
  sentAtUs: number;
}

/**
 * Reads the fields of the bench text buf[at, at + length) into `out` (reused, so the
 * hot path allocates nothing). False when those bytes are not a bench text.
 */
export function readBenchText(buf: Buffer, at: number, length: number, out: BenchTextFields): boolean {
  if (length !== TEXT_BYTES || at + length > buf.length) return false;
  for (let i = 0; i < MARKER.length; i++) if (buf[at + i] !== MARKER.charCodeAt(i)) return false;
  const publisher = readDigits(buf, at + PUBLISHER_AT, PUBLISHER_DIGITS);
  const n = readDigits(buf, at + NUMBER_AT, NUMBER_DIGITS);
  const sentAtUs = readDigits(buf, at + TIME_AT, TIME_DIGITS);
  if (publisher < 0 || n < 0 || sentAtUs < 0) return false;
  out.publisher = publisher;
  out.n = n;
  out.sentAtUs = sentAtUs;
  return true;
}

function readDigits(buf: Buffer, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const digit = (buf[i] as number) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/** readBenchText for a text a chat client already decoded (bench texts are ASCII). */
export function parseBenchText(text: string, out: BenchTextFields): boolean {
  return readBenchText(Buffer.from(text, 'latin1'), 0, text.length, out);
}
