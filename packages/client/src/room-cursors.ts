import type { ChatMessage, Cursor } from '@meshchat/protocol';
import { SeenPosition } from './seen-position.js';

/** The rooms a client is in and, for each, the position a resume starts from. */
export class RoomCursors {
  private readonly rooms = new Map<string, SeenPosition>();

  has(room: string): boolean {
    return this.rooms.has(room);
  }

  names(): string[] {
    return [...this.rooms.keys()];
  }

  cursor(room: string): Cursor | undefined {
    return this.rooms.get(room)?.cursor;
  }

  /** Starts or moves a room's cursor forward to the position a node reported. */
  advanceTo(room: string, cursor: Cursor): void {
    this.position(room).advanceTo(cursor);
  }

  /** Records the message and says whether it is new to this client (see SeenPosition). */
  accept(message: ChatMessage): boolean {
    return this.position(message.room).accept(message);
  }

  delete(room: string): void {
    this.rooms.delete(room);
  }

  private position(room: string): SeenPosition {
    let position = this.rooms.get(room);
    if (!position) {
      position = new SeenPosition();
      this.rooms.set(room, position);
    }
    return position;
  }
}
