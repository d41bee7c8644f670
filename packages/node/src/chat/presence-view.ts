import type { Member, RoomSummary } from '@meshchat/protocol';
import type { Identity } from './client-session.js';
import { nickKey } from './rules.js';

export type PresenceAnnouncer = (room: string, event: 'joined' | 'left', member: Member) => void;

export interface PresenceViewDeps {
  /** How long a client that went away without a goodbye stays shown for a resume. */
  graceMs: number;
  now: () => number;
  /** Tells this node's clients in `room`. */
  announce: PresenceAnnouncer;
  /** Runs `task` once after `ms`; the function returned cancels it. */
  setTimer: (task: () => void, ms: number) => () => void;
}

interface Departure {
  rooms: Set<string>;
  endsAt: number;
  cancel: () => void;
}

/** A client shown in its resume grace with no session anywhere, as peers are told. */
export interface DepartedClient {
  member: Member;
  rooms: string[];
  graceLeftMs: number;
}

interface ShownClient {
  // As last reported: its nick and the node it was last seen on.
  member: Member;
  // The rooms each of its sessions is in, by source (see sourceOf*).
  sessions: Map<string, Set<string>>;
  // Rooms held after its last session in them went away without a goodbye.
  departure: Departure | undefined;
}

/** The source key of a session on this node. */
export const localSource = (sessionId: string) => `session:${sessionId}`;
/** The source key of a client's session on another node, as that node reports it. */
export const peerSource = (nodeId: string) => `node:${nodeId}`;

/**
 * Who is in which room as this node shows it to its clients, one entry per client
 * whatever the number of its sessions (a client moving between nodes is briefly on
 * both, as the nodes report it). `joined` and `left` are announced only when the
 * client enters or leaves the room as a whole.
 *
 * A client whose session goes away without a goodbye (its socket closed, its node
 * died) has failed over or will soon: its rooms are held for `graceMs`, during which it
 * is still listed and can still be sent direct messages. If it is back in a room before
 * the grace ends nothing is announced, on any node (each node holds its own view from
 * the same events); after it, the leave is announced. An explicit leave, or a goodbye,
 * is announced at once.
 */
export class PresenceView {
  private readonly clients = new Map<string, ShownClient>();

  constructor(private readonly deps: PresenceViewDeps) {}

  online(source: string, member: Member): void {
    const client = this.record(member);
    if (!client.sessions.has(source)) client.sessions.set(source, new Set());
  }

  joined(source: string, room: string, member: Member): void {
    const client = this.record(member);
    let rooms = client.sessions.get(source);
    if (!rooms) {
      rooms = new Set();
      client.sessions.set(source, rooms);
    }
    if (rooms.has(room)) return;
    const wasShown = isShownIn(client, room);
    rooms.add(room);
    const departure = client.departure;
    if (departure?.rooms.delete(room) && departure.rooms.size === 0) {
      // Back in every room it was held in; nothing left to announce.
      departure.cancel();
      client.departure = undefined;
    }
    if (!wasShown) this.deps.announce(room, 'joined', client.member);
  }

  left(source: string, clientId: string, room: string): void {
    const client = this.clients.get(clientId);
    if (!client?.sessions.get(source)?.delete(room)) return;
    if (!isShownIn(client, room)) this.deps.announce(room, 'left', client.member);
  }

  /**
   * A session went away. With `isGoodbye` (the client said bye) it is forgotten at
   * once; otherwise its rooms, and its nick for direct messages, are held for the grace.
   */
  offline(source: string, clientId: string, { isGoodbye }: { isGoodbye: boolean }): void {
    const client = this.clients.get(clientId);
    const rooms = client?.sessions.get(source);
    if (!client || !rooms) return;
    client.sessions.delete(source);
    const gone = [...rooms].filter((room) => !isShownIn(client, room));
    if (isGoodbye) {
      for (const room of gone) this.deps.announce(room, 'left', client.member);
      if (client.sessions.size === 0 && !client.departure) this.clients.delete(clientId);
      return;
    }
    if (gone.length === 0 && client.sessions.size > 0) return;
    const departure = client.departure ?? { rooms: new Set<string>(), endsAt: 0, cancel: () => {} };
    departure.cancel();
    for (const room of gone) departure.rooms.add(room);
    departure.endsAt = this.deps.now() + this.deps.graceMs;
    departure.cancel = this.deps.setTimer(() => this.expire(clientId), this.deps.graceMs);
    client.departure = departure;
  }

  /**
   * A peer shows this client in its grace (it has no session anywhere), or sent a copy
   * of a node we already hold dead: hold it for what is left of the grace, so direct
   * messages to it are accepted while it fails over. Nothing is announced now: to this
   * node's clients it was never gone. A client we already show is left as it is.
   */
  holdDeparted(member: Member, rooms: readonly string[], graceLeftMs: number): void {
    if (this.clients.has(member.clientId) || graceLeftMs <= 0) return;
    const ms = Math.min(graceLeftMs, this.deps.graceMs);
    this.clients.set(member.clientId, {
      member,
      sessions: new Map(),
      departure: {
        rooms: new Set(rooms),
        endsAt: this.deps.now() + ms,
        cancel: this.deps.setTimer(() => this.expire(member.clientId), ms),
      },
    });
  }

  /** Clients held in their grace with no session anywhere, for a peer's snapshot. */
  departed(): DepartedClient[] {
    const now = this.deps.now();
    const held: DepartedClient[] = [];
    for (const { member, sessions, departure } of this.clients.values()) {
      if (sessions.size > 0 || !departure || departure.endsAt <= now) continue;
      held.push({ member, rooms: [...departure.rooms], graceLeftMs: departure.endsAt - now });
    }
    return held;
  }

  /** Members of a room: one per client, with the node it was last seen on. */
  members(room: string): Member[] {
    return [...this.clients.values()].filter((c) => isShownIn(c, room)).map((c) => c.member);
  }

  /** Rooms with members and how many, sorted by name. */
  rooms(): RoomSummary[] {
    const counts = new Map<string, number>();
    for (const client of this.clients.values()) {
      for (const room of shownRooms(client)) counts.set(room, (counts.get(room) ?? 0) + 1);
    }
    return [...counts].map(([name, members]) => ({ name, members })).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** A client with that nick, connected or within its grace; connected ones first. */
  findByNick(nick: string): Identity | undefined {
    const key = nickKey(nick);
    let departed: Identity | undefined;
    for (const { member, sessions } of this.clients.values()) {
      if (nickKey(member.nick) !== key) continue;
      if (sessions.size > 0) return { clientId: member.clientId, nick: member.nick };
      departed ??= { clientId: member.clientId, nick: member.nick };
    }
    return departed;
  }

  /** Cancels every grace timer (the node is stopping). */
  clear(): void {
    for (const client of this.clients.values()) client.departure?.cancel();
    this.clients.clear();
  }

  private expire(clientId: string): void {
    const client = this.clients.get(clientId);
    const departure = client?.departure;
    if (!client || !departure) return;
    client.departure = undefined;
    for (const room of departure.rooms) if (!isShownIn(client, room)) this.deps.announce(room, 'left', client.member);
    if (client.sessions.size === 0) this.clients.delete(clientId);
  }

  private record(member: Member): ShownClient {
    let client = this.clients.get(member.clientId);
    if (!client) {
      client = { member, sessions: new Map(), departure: undefined };
      this.clients.set(member.clientId, client);
    }
    client.member = member;
    return client;
  }
}

function isShownIn(client: ShownClient, room: string): boolean {
  if (client.departure?.rooms.has(room)) return true;
  for (const rooms of client.sessions.values()) if (rooms.has(room)) return true;
  return false;
}

function shownRooms(client: ShownClient): Set<string> {
  const rooms = new Set(client.departure?.rooms);
  for (const sessionRooms of client.sessions.values()) for (const room of sessionRooms) rooms.add(room);
  return rooms;
}
