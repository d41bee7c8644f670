import type { RoomSummary } from '@meshchat/protocol';
import type { ClientSession } from './client-session.js';

/** Which local sessions are in which room. */
export class RoomRegistry {
  private readonly rooms = new Map<string, Set<ClientSession>>();

  /** Returns false when the session was already in the room. */
  add(room: string, session: ClientSession): boolean {
    let members = this.rooms.get(room);
    if (!members) {
      members = new Set();
      this.rooms.set(room, members);
    }
    if (members.has(session)) return false;
    members.add(session);
    session.rooms.add(room);
    return true;
  }

  /** Returns false when the session was not in the room. */
  remove(room: string, session: ClientSession): boolean {
    const members = this.rooms.get(room);
    if (!members?.delete(session)) return false;
    session.rooms.delete(room);
    if (members.size === 0) this.rooms.delete(room);
    return true;
  }

  members(room: string): ReadonlySet<ClientSession> {
    return this.rooms.get(room) ?? new Set();
  }

  summaries(): RoomSummary[] {
    return [...this.rooms]
      .map(([name, members]) => ({ name, members: members.size }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }
}
