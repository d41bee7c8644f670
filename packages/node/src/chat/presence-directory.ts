import type { Member, PeerFrameOf } from '@meshchat/protocol';
import { nickKey } from './rules.js';

type Snapshot = PeerFrameOf<'presence_snapshot'>;
type Delta = PeerFrameOf<'presence_delta'>;

interface RemoteSession {
  clientId: string;
  nick: string;
  rooms: Set<string>;
}

export type PresenceListener = (room: string, event: 'joined' | 'left', member: Member) => void;

/**
 * The sessions of the other nodes and the rooms they are in, as those nodes report
 * them: a snapshot when a link comes up, then one delta per change. A node declared
 * dead takes its sessions with it. Local sessions live in ChatService; this holds
 * only the rest of the cluster.
 */
export class PresenceDirectory {
  private readonly byNode = new Map<string, Map<string, RemoteSession>>();

  constructor(private readonly onChange: PresenceListener) {}

  applySnapshot(nodeId: string, snapshot: Snapshot): void {
    const before = this.byNode.get(nodeId) ?? new Map<string, RemoteSession>();
    const after = new Map<string, RemoteSession>();
    for (const s of snapshot.sessions)
      after.set(s.clientId, { clientId: s.clientId, nick: s.nick, rooms: new Set(s.rooms) });
    this.byNode.set(nodeId, after);
    for (const [clientId, old] of before) {
      const now = after.get(clientId);
      for (const room of old.rooms) if (!now?.rooms.has(room)) this.onChange(room, 'left', member(old, nodeId));
    }
    for (const [clientId, now] of after) {
      const old = before.get(clientId);
      for (const room of now.rooms) if (!old?.rooms.has(room)) this.onChange(room, 'joined', member(now, nodeId));
    }
  }

  applyDelta(nodeId: string, delta: Delta): void {
    let sessions = this.byNode.get(nodeId);
    if (!sessions) {
      sessions = new Map();
      this.byNode.set(nodeId, sessions);
    }
    const existing = sessions.get(delta.clientId);
    switch (delta.event) {
      case 'online':
        if (!existing) sessions.set(delta.clientId, { clientId: delta.clientId, nick: delta.nick, rooms: new Set() });
        return;
      case 'offline':
        if (!existing) return;
        sessions.delete(delta.clientId);
        for (const room of existing.rooms) this.onChange(room, 'left', member(existing, nodeId));
        return;
      case 'joined': {
        const session = existing ?? { clientId: delta.clientId, nick: delta.nick, rooms: new Set<string>() };
        sessions.set(delta.clientId, session);
        if (delta.room === undefined || session.rooms.has(delta.room)) return;
        session.rooms.add(delta.room);
        this.onChange(delta.room, 'joined', member(session, nodeId));
        return;
      }
      case 'left':
        if (!existing || delta.room === undefined || !existing.rooms.delete(delta.room)) return;
        this.onChange(delta.room, 'left', member(existing, nodeId));
        return;
    }
  }

  /** A node was declared dead: its clients leave every room. */
  dropNode(nodeId: string): void {
    const sessions = this.byNode.get(nodeId);
    if (!sessions) return;
    this.byNode.delete(nodeId);
    for (const session of sessions.values()) {
      for (const room of session.rooms) this.onChange(room, 'left', member(session, nodeId));
    }
  }

  members(room: string): Member[] {
    const found: Member[] = [];
    for (const [nodeId, sessions] of this.byNode) {
      for (const session of sessions.values()) if (session.rooms.has(room)) found.push(member(session, nodeId));
    }
    return found;
  }

  findByNick(nick: string): Member | undefined {
    const key = nickKey(nick);
    for (const [nodeId, sessions] of this.byNode) {
      for (const session of sessions.values()) if (nickKey(session.nick) === key) return member(session, nodeId);
    }
    return undefined;
  }

  /** Member counts per room across the other nodes. */
  roomCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const sessions of this.byNode.values()) {
      for (const session of sessions.values()) {
        for (const room of session.rooms) counts.set(room, (counts.get(room) ?? 0) + 1);
      }
    }
    return counts;
  }

  clientCount(nodeId: string): number {
    return this.byNode.get(nodeId)?.size ?? 0;
  }
}

function member(session: RemoteSession, nodeId: string): Member {
  return { clientId: session.clientId, nick: session.nick, nodeId };
}
