import type { Member, PeerFrameOf, PresenceVersion } from '@meshchat/protocol';

type Snapshot = PeerFrameOf<'presence_snapshot'>;
type Delta = PeerFrameOf<'presence_delta'>;

interface RemoteSession {
  clientId: string;
  nick: string;
  rooms: Set<string>;
}

interface NodePresence extends PresenceVersion {
  sessions: Map<string, RemoteSession>;
}

/** A change to another node's sessions: one came or went, or entered or left a room. */
export type RemotePresenceChange =
  | { event: 'online' | 'offline'; member: Member }
  | { event: 'joined' | 'left'; room: string; member: Member }
  // Gone without a goodbye, with `graceLeftMs` of its resume grace left (undefined: all).
  | { event: 'departed'; member: Member; rooms: string[]; graceLeftMs: number | undefined };

export interface PresenceDirectoryDeps {
  onChange: (change: RemotePresenceChange) => void;
  /** Whether this node holds `nodeId` dead: copies of its presence are then refused. */
  isDead: (nodeId: string) => boolean;
}

/**
 * The sessions of the other nodes and the rooms they are in. Each node owns its part
 * and versions it (epoch, version); the owner sends a snapshot when a link comes up and
 * a delta per change, and anti-entropy passes snapshots on through third nodes, so
 * presence converges like messages do when a direct link is cut. A node declared dead
 * takes its sessions with it.
 */
export class PresenceDirectory {
  private readonly byNode = new Map<string, NodePresence>();

  constructor(private readonly deps: PresenceDirectoryDeps) {}

  /**
   * Applies a snapshot from its owner (always: it is the source) or forwarded by a
   * peer (only when newer than what we hold). A copy of a node we hold dead is not
   * taken as its sessions: the peer has not seen it die yet, so its clients are failing
   * over and are reported departed. So are the ones the owner holds in their grace.
   */
  applySnapshot(from: string, snapshot: Snapshot): void {
    const owner = snapshot.nodeId;
    const known = this.byNode.get(owner);
    if (from !== owner && this.deps.isDead(owner)) {
      for (const s of snapshot.sessions) {
        this.deps.onChange({ event: 'departed', member: member(s, owner), rooms: s.rooms, graceLeftMs: undefined });
      }
      return;
    }
    if (from === owner) {
      for (const d of snapshot.departed ?? []) {
        const departed = { clientId: d.clientId, nick: d.nick, nodeId: d.nodeId };
        this.deps.onChange({ event: 'departed', member: departed, rooms: d.rooms, graceLeftMs: d.graceLeftMs });
      }
    }
    if (from !== owner && known && !isNewer(snapshot, known)) return;
    const sessions = new Map<string, RemoteSession>();
    for (const s of snapshot.sessions)
      sessions.set(s.clientId, { clientId: s.clientId, nick: s.nick, rooms: new Set(s.rooms) });
    this.byNode.set(owner, { epoch: snapshot.epoch, version: snapshot.version, sessions });
    const before = known?.sessions ?? new Map<string, RemoteSession>();
    for (const [clientId, old] of before) {
      const now = sessions.get(clientId);
      if (!now) {
        this.deps.onChange({ event: 'offline', member: member(old, owner) });
        continue;
      }
      for (const room of old.rooms) {
        if (!now.rooms.has(room)) this.deps.onChange({ event: 'left', room, member: member(old, owner) });
      }
    }
    for (const [clientId, now] of sessions) {
      const old = before.get(clientId);
      if (!old) this.deps.onChange({ event: 'online', member: member(now, owner) });
      for (const room of now.rooms) {
        if (!old?.rooms.has(room)) this.deps.onChange({ event: 'joined', room, member: member(now, owner) });
      }
    }
  }

  /**
   * Applies a delta from its owner. Returns false when it does not follow the version
   * we hold (we missed a change): the caller then asks for a fresh snapshot.
   */
  applyDelta(owner: string, delta: Delta): boolean {
    let presence = this.byNode.get(owner);
    if (presence && !isNewer(delta, presence)) return true;
    const follows = presence !== undefined && presence.epoch === delta.epoch && delta.version === presence.version + 1;
    if (!presence) {
      presence = { epoch: delta.epoch, version: delta.version, sessions: new Map() };
      this.byNode.set(owner, presence);
    }
    presence.epoch = delta.epoch;
    presence.version = delta.version;
    this.applyChange(owner, presence.sessions, delta);
    return follows;
  }

  /** A node was declared dead: its clients went away with it (and may resume elsewhere). */
  dropNode(nodeId: string): void {
    const presence = this.byNode.get(nodeId);
    if (!presence) return;
    this.byNode.delete(nodeId);
    for (const session of presence.sessions.values()) {
      this.deps.onChange({ event: 'offline', member: member(session, nodeId) });
    }
  }

  /** The versions held, per owner, for anti-entropy. */
  versions(): Record<string, PresenceVersion> {
    return Object.fromEntries([...this.byNode].map(([nodeId, p]) => [nodeId, { epoch: p.epoch, version: p.version }]));
  }

  /** Our copy of a node's presence, to pass on to a peer that holds an older one. */
  snapshotOf(nodeId: string): Snapshot | undefined {
    const presence = this.byNode.get(nodeId);
    if (!presence) return undefined;
    const sessions = [...presence.sessions.values()].map((s) => ({
      clientId: s.clientId,
      nick: s.nick,
      rooms: [...s.rooms],
    }));
    return { type: 'presence_snapshot', nodeId, epoch: presence.epoch, version: presence.version, sessions };
  }

  clientCount(nodeId: string): number {
    return this.byNode.get(nodeId)?.sessions.size ?? 0;
  }

  private applyChange(owner: string, sessions: Map<string, RemoteSession>, delta: Delta): void {
    const existing = sessions.get(delta.clientId);
    switch (delta.event) {
      case 'online':
        this.sessionOf(owner, sessions, delta);
        return;
      case 'offline':
        if (!existing) return;
        sessions.delete(delta.clientId);
        this.deps.onChange({ event: 'offline', member: member(existing, owner) });
        return;
      case 'joined': {
        const session = this.sessionOf(owner, sessions, delta);
        if (delta.room === undefined || session.rooms.has(delta.room)) return;
        session.rooms.add(delta.room);
        this.deps.onChange({ event: 'joined', room: delta.room, member: member(session, owner) });
        return;
      }
      case 'left':
        if (!existing || delta.room === undefined || !existing.rooms.delete(delta.room)) return;
        this.deps.onChange({ event: 'left', room: delta.room, member: member(existing, owner) });
        return;
    }
  }

  // The session a delta is about, reported online if it is new to us.
  private sessionOf(owner: string, sessions: Map<string, RemoteSession>, delta: Delta): RemoteSession {
    const existing = sessions.get(delta.clientId);
    if (existing) return existing;
    const session: RemoteSession = { clientId: delta.clientId, nick: delta.nick, rooms: new Set() };
    sessions.set(delta.clientId, session);
    this.deps.onChange({ event: 'online', member: member(session, owner) });
    return session;
  }
}

/** Whether version `a` is later than `b`: a later epoch (a restart), or more changes. */
export function isNewer(a: PresenceVersion, b: PresenceVersion): boolean {
  return a.epoch > b.epoch || (a.epoch === b.epoch && a.version > b.version);
}

function member(session: { clientId: string; nick: string }, nodeId: string): Member {
  return { clientId: session.clientId, nick: session.nick, nodeId };
}
