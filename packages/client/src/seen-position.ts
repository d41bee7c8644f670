import type { Cursor } from '@meshchat/protocol';

// How many (sender, clientMsgId) pairs a position remembers for dedupe. A resend can
// only come back as a second copy while it is recent, so a bounded window is enough.
export const SHOWN_WINDOW = 10_000;

/** What identifies a message to the client: its place in its stream, and its sender's id for it. */
export interface Sighting {
  origin: string;
  seq: number;
  from: { clientId: string };
  clientMsgId: string;
}

/**
 * A cursor (origin -> last seq seen) and the messages recently shown under it. A
 * message is shown once: not if its seq is at or below the cursor, and not if the same
 * sender's clientMsgId was already shown under another id (a resend accepted by a
 * second node, design.md guarantee 2).
 */
export class SeenPosition {
  private readonly current: Cursor = {};
  private readonly shown = new Set<string>();
  // The same keys in the order shown, in a ring: the slot of the next one holds the
  // oldest, which leaves the window. (Deleting a Set's first entry again and again is
  // not O(1) in V8: deleted entries stay in its table until a rehash, and each lookup of
  // the first one walks past them, ~10 us a message with a full window.)
  private readonly order: string[] = [];
  private next = 0;

  constructor(start: Cursor = {}) {
    this.advanceTo(start);
  }

  get cursor(): Cursor {
    return { ...this.current };
  }

  /** Moves forward to a position a node reported (per origin, never back). */
  advanceTo(cursor: Cursor): void {
    for (const [origin, seq] of Object.entries(cursor)) {
      if (seq > (this.current[origin] ?? 0)) this.current[origin] = seq;
    }
  }

  /** Records the message and says whether it is new to this client. */
  accept(message: Sighting): boolean {
    if (message.seq <= (this.current[message.origin] ?? 0)) return false;
    this.current[message.origin] = message.seq;
    const key = `${message.from.clientId}\u0000${message.clientMsgId}`;
    if (this.shown.has(key)) return false;
    this.shown.add(key);
    const oldest = this.order[this.next];
    if (oldest !== undefined) this.shown.delete(oldest);
    this.order[this.next] = key;
    this.next = (this.next + 1) % SHOWN_WINDOW;
    return true;
  }
}
