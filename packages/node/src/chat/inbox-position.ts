import type { ChatMessage, Cursor } from '@meshchat/protocol';

/**
 * How far one session is in its inbox (origin -> last seq sent to it) and whether
 * live direct messages flow to it yet. A resuming session starts from the client's
 * cursor and holds live messages back until its replay is complete; from then on a
 * message is sent only if it is past the position, so a message that the replay read
 * and that is delivered live a moment later (its commit was still completing) is sent
 * once. The client drops anything at or below its own cursor too: the final guard.
 */
export class InboxPosition {
  private readonly cursor: Cursor;

  private constructor(
    cursor: Cursor,
    private isLive: boolean,
  ) {
    this.cursor = { ...cursor };
  }

  /** A session without a cursor: what the inbox holds now is old, the rest is live. */
  static live(vector: Cursor): InboxPosition {
    return new InboxPosition(vector, true);
  }

  /** A session resuming from the client's cursor: replay first, live after. */
  static resuming(cursor: Cursor): InboxPosition {
    return new InboxPosition(cursor, false);
  }

  get isReplaying(): boolean {
    return !this.isLive;
  }

  get position(): Cursor {
    return { ...this.cursor };
  }

  /** Moves forward to `cursor` (per origin, never back). */
  advanceTo(cursor: Cursor): void {
    for (const [origin, seq] of Object.entries(cursor)) {
      if (seq > (this.cursor[origin] ?? 0)) this.cursor[origin] = seq;
    }
  }

  /** Records a message sent by the replay. */
  replayed(message: ChatMessage): void {
    this.advanceTo({ [message.origin]: message.seq });
  }

  /**
   * The replay is complete: live messages flow from here. `vector` (the inbox's
   * version vector now) also covers aliases, which are never sent.
   */
  goLive(vector: Cursor): void {
    this.advanceTo(vector);
    this.isLive = true;
  }

  /** Whether a live message goes to the session; if so, the position moves past it. */
  takeLive(message: ChatMessage): boolean {
    if (!this.isLive || message.seq <= (this.cursor[message.origin] ?? 0)) return false;
    this.cursor[message.origin] = message.seq;
    return true;
  }
}
