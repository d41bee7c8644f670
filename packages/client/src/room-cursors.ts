import type { ChatMessage, Cursor } from '@meshchat/protocol';

// How many (sender, clientMsgId) pairs a room remembers for dedupe. A resend can only
// come back as a second copy while it is recent, so a bounded window is enough.
const SHOWN_WINDOW = 10_000;

interface RoomPosition {
  cursor: Cursor;
  shown: Set<string>;
}

/**
 * The rooms a client is in and, for each, its cursor (origin -> last seq seen) and
 * the recent messages it has shown. A message is shown once: not if its seq is at or
 * below the cursor, and not if the same sender's clientMsgId was already shown under
 * another id (a resend accepted by a second node, design.md guarantee 2).
 */
export class RoomCursors {
  private readonly rooms = new Map<string, RoomPosition>();

  has(room: string): boolean {
    return this.rooms.has(room);
  }

  names(): string[] {
    return [...this.rooms.keys()];
  }

  cursor(room: string): Cursor | undefined {
    const position = this.rooms.get(room);
    return position ? { ...position.cursor } : undefined;
  }

  /** Starts or moves a room's cursor forward to the position a node reported. */
  advanceTo(room: string, cursor: Cursor): void {
    const position = this.position(room);
    for (const [origin, seq] of Object.entries(cursor)) {
      if (seq > (position.cursor[origin] ?? 0)) position.cursor[origin] = seq;
    }
  }

  /** Records the message and says whether it is new to this client. */
  accept(message: ChatMessage): boolean {
    const position = this.position(message.room);
    if (message.seq <= (position.cursor[message.origin] ?? 0)) return false;
    position.cursor[message.origin] = message.seq;
    const key = `${message.from.clientId}\u0000${message.clientMsgId}`;
    if (position.shown.has(key)) return false;
    position.shown.add(key);
    if (position.shown.size > SHOWN_WINDOW) {
      const oldest = position.shown.values().next().value;
      if (oldest !== undefined) position.shown.delete(oldest);
    }
    return true;
  }

  delete(room: string): void {
    this.rooms.delete(room);
  }

  private position(room: string): RoomPosition {
    let position = this.rooms.get(room);
    if (!position) {
      position = { cursor: {}, shown: new Set() };
      this.rooms.set(room, position);
    }
    return position;
  }
}
