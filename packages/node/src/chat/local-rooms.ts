import { type ChatMessage, encodeFrame, encodeMessageFrame, type Member, type ServerFrameOf } from '@meshchat/protocol';
import type { ClientSession } from './client-session.js';

/** Rooms that hold a user's direct messages are named after the recipient's clientId. */
export const inboxRoom = (clientId: string) => `@${clientId}`;
const inboxOwner = (room: string) => (room.startsWith('@') ? room.slice(1) : undefined);
/** Whether `room` is a client's inbox (its direct messages), not a chat room. */
export const isInboxRoom = (room: string): boolean => inboxOwner(room) !== undefined;

/**
 * This node's sessions in their rooms, and delivery to them: a room message is encoded
 * once and the same bytes go to every member; a message in an inbox room goes to the
 * recipient's sessions as a `direct` frame.
 */
export class LocalRooms {
  private readonly rooms = new Map<string, Set<ClientSession>>();
  private readonly byClientId = new Map<string, Set<ClientSession>>();

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

  registerClient(session: ClientSession): void {
    const clientId = session.identity?.clientId;
    if (clientId === undefined) return;
    let sessions = this.byClientId.get(clientId);
    if (!sessions) {
      sessions = new Set();
      this.byClientId.set(clientId, sessions);
    }
    sessions.add(session);
  }

  unregisterClient(session: ClientSession): void {
    const clientId = session.identity?.clientId;
    const sessions = clientId === undefined ? undefined : this.byClientId.get(clientId);
    if (!sessions?.delete(session)) return;
    if (sessions.size === 0) this.byClientId.delete(clientId as string);
  }

  /** Sessions of one client on this node (several devices of one user, with auth). */
  sessionsOf(clientId: string): ReadonlySet<ClientSession> {
    return this.byClientId.get(clientId) ?? new Set();
  }

  /** The number of rooms with a session of this node in them. */
  get roomCount(): number {
    return this.rooms.size;
  }

  /**
   * Delivers a stored message, accepted here or replicated from a peer; returns to how
   * many sessions.
   */
  deliver(message: ChatMessage, encoded?: Uint8Array): number {
    const recipient = inboxOwner(message.room);
    if (recipient === undefined) {
      const members = this.members(message.room);
      // Anti-entropy brings messages of rooms nobody here is in: encode only for someone.
      if (members.size === 0) return 0;
      const bytes = encoded ?? encodeMessageFrame(message);
      for (const member of members) member.link.sendEncoded(bytes);
      return members.size;
    }
    let delivered = 0;
    // The recipient's devices share its nick: one encoding for all of them.
    let bytes: Uint8Array | undefined;
    let bytesFor: string | undefined;
    for (const session of this.byClientId.get(recipient) ?? []) {
      // A session replaying its inbox gets this message from the replay instead.
      if (!session.inbox?.takeLive(message)) continue;
      const nick = session.identity?.nick ?? '';
      if (bytes === undefined || bytesFor !== nick) {
        bytes = encodeFrame(directFrame(message, nick));
        bytesFor = nick;
      }
      session.link.sendEncoded(bytes);
      delivered++;
    }
    return delivered;
  }

  /** Tells a room's local members that someone joined or left. */
  announce(room: string, event: 'joined' | 'left', member: Member): void {
    const bytes = encodeFrame({ type: 'presence', room, event, member });
    for (const session of this.members(room)) session.link.sendEncoded(bytes);
  }
}

/** A message of an inbox room as its recipient gets it. */
export function directFrame(message: ChatMessage, to: string): ServerFrameOf<'direct'> {
  const { room, origin, seq, ...rest } = message;
  return { type: 'direct', id: { room, origin, seq }, to, ...rest };
}
