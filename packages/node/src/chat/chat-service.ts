import {
  type ChatMessage,
  type ClientFrame,
  type ClientFrameOf,
  type ClientTransport,
  type ErrorCode,
  encodeFrame,
  encodeMessageFrame,
  type MessageId,
  PROTOCOL_VERSION,
  type ProtocolError,
  type ServerFrame,
} from '@meshchat/protocol';
import type { Logger } from 'pino';
import type { NodeConfig } from '../config/schema.js';
import { MAX_RECIPIENT_WAIT_MS, REPLY_PAGE_MESSAGES } from '../constants.js';
import { ChatError } from '../errors.js';
import type { MessageStore } from '../store/message-store.js';
import { AwaitedRecipients } from './awaited-recipients.js';
import { type ChatMetrics, noChatMetrics } from './chat-metrics.js';
import { type ClientLink, ClientSession, type Identity } from './client-session.js';
import { ClusterPresence, type LocalPresence, type PresenceDelta } from './cluster-presence.js';
import { InboxPosition } from './inbox-position.js';
import { directFrame, inboxRoom, LocalRooms } from './local-rooms.js';
import { MessageIntake, type OriginGate } from './message-intake.js';
import type { RemotePresenceChange } from './presence-directory.js';
import { localSource, PresenceView, peerSource } from './presence-view.js';
import { advanceCursor, newestWithinBudget, oldestWithinBudget } from './reply-budget.js';
import { checkNick, checkRoom, checkText, nickKey } from './rules.js';
import { TokenBucket } from './token-bucket.js';

export type { PresenceDelta } from './cluster-presence.js';

/** What the chat layer needs from the rest of the cluster. */
export interface ClusterPort {
  /** Relays a committed local message to every peer; `encoded` is its message frame. */
  publish(message: ChatMessage, encoded: Uint8Array): void;
  /** Tells every peer about a change to this node's sessions. */
  presenceChanged(delta: PresenceDelta): void;
  /** Resolves once enough peers hold this node's (room, seq): the write quorum. */
  whenReplicated(room: string, seq: number): Promise<void>;
  /**
   * Messages of `room` from peers that this node's clients were shown before this node
   * committed them: in neither the store's history nor its version vector yet.
   */
  shownBeforeCommit(room: string): readonly { message: ChatMessage; encoded: Uint8Array | undefined }[];
  /** Whether this node holds another node dead. */
  isDead(nodeId: string): boolean;
  /** Whether this node is part of a cluster: it has seeds or has met another node. */
  hasPeers(): boolean;
  /**
   * Addresses of the cluster's live nodes for clients of one transport, this node's
   * first, handed to clients for failover: TCP client addresses ("host:port"), or
   * WebSocket endpoints ("ws://host:httpPort/ws").
   */
  clientAddresses(transport: ClientTransport): string[];
}

/** Runs `task` once after `ms`; the function returned cancels it. */
export type SetTimer = (task: () => void, ms: number) => () => void;

export interface ChatServiceDeps {
  nodeId: string;
  /** Local messages wait until this node knows its origin id (OriginRecovery). */
  gate: OriginGate;
  config: Pick<NodeConfig, 'limits' | 'historyOnJoin' | 'resumeGraceMs'>;
  store: MessageStore;
  cluster: ClusterPort;
  log: Logger;
  now: () => number;
  newSessionId: () => string;
  setTimer: SetTimer;
  metrics?: ChatMetrics;
  /**
   * Present when the node requires authentication (auth.required): checks the token of
   * a hello and says whose it is. Throws (rejects with) a fatal ChatError when refused.
   */
  verifyToken?: (token: string) => Promise<VerifiedIdentity>;
}

/** Who a verified token names: the session's clientId and nick, until `expiresAt`. */
export interface VerifiedIdentity {
  userId: string;
  nick: string;
  expiresAt: number;
}

// setTimeout holds at most 2^31 - 1 ms (24.8 days); a later expiry is re-armed.
const MAX_TIMER_MS = 2 ** 31 - 1;

type Ref = { reqId?: number; clientMsgId?: string };

const CLIENT_TRANSPORTS: readonly ClientTransport[] = ['tcp', 'websocket'];

/**
 * The chat rooms of one node: sessions, rooms, presence and messages. It takes frames
 * and gives frames through ClientLink and ClusterPort, so it runs the same behind real
 * sockets and in tests; it owns no socket, timer or file.
 */
export class ChatService {
  private readonly sessions = new Set<ClientSession>();
  // Sessions by nick: several only when they are one client's (devices of one user).
  private readonly byNick = new Map<string, Set<ClientSession>>();
  private readonly local = new LocalRooms();
  private readonly intake: MessageIntake;
  /** This node's presence versions, the other nodes' presence, and their exchange. */
  readonly presence: ClusterPresence;
  // Who is in which room as this node's clients are told, with the grace for resumes.
  private readonly view: PresenceView;
  // The client addresses last told to clients of each transport, to push only a change.
  private readonly toldServers = new Map<ClientTransport, string>();
  private readonly awaited: AwaitedRecipients;
  private readonly metrics: ChatMetrics;

  constructor(private readonly deps: ChatServiceDeps) {
    this.metrics = deps.metrics ?? noChatMetrics;
    this.intake = new MessageIntake({
      store: deps.store,
      now: deps.now,
      gate: deps.gate,
      onCommitted: (message, encoded) => {
        this.metrics.accepted();
        this.metrics.delivered(this.local.deliver(message, encoded));
        deps.cluster.publish(message, encoded);
      },
      whenReplicated: (room, seq) => deps.cluster.whenReplicated(room, seq),
    });
    this.view = new PresenceView({
      graceMs: deps.config.resumeGraceMs,
      now: deps.now,
      announce: (room, event, member) => this.local.announce(room, event, member),
      setTimer: deps.setTimer,
    });
    this.presence = new ClusterPresence({
      nodeId: deps.nodeId,
      now: deps.now,
      graceMs: deps.config.resumeGraceMs,
      broadcast: (delta) => deps.cluster.presenceChanged(delta),
      isDead: (nodeId) => deps.cluster.isDead(nodeId),
      onRemoteChange: (change) => this.remotePresenceChanged(change),
      local: () => this.localPresence(),
    });
    this.awaited = new AwaitedRecipients({ find: (nick) => this.findRecipient(nick), setTimer: deps.setTimer });
  }

  /** Open client connections, whether or not they have said hello. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Sessions that said hello and were welcomed (a walk over every session: for scrapes). */
  get readySessionCount(): number {
    let ready = 0;
    for (const session of this.sessions) if (session.isReady) ready++;
    return ready;
  }

  /** Rooms with a session of this node in them. */
  get activeRoomCount(): number {
    return this.local.roomCount;
  }

  /** Direct messages waiting for their recipient to be known here (AwaitedRecipients). */
  get awaitedDirectCount(): number {
    return this.awaited.size;
  }

  open(link: ClientLink): ClientSession {
    const { limits } = this.deps.config;
    const bucket = new TokenBucket(limits.ratePerSec, limits.rateBurst, this.deps.now);
    const session = new ClientSession(this.deps.newSessionId(), link, bucket, this.deps.now());
    this.sessions.add(session);
    return session;
  }

  handleFrame(session: ClientSession, frame: ClientFrame): void {
    if (session.isClosed) return;
    session.lastHeardAt = this.deps.now();
    try {
      this.dispatch(session, frame);
    } catch (err) {
      this.fail(session, frame, err);
    }
  }

  /**
   * A message stored here after it came from a peer: deliver it to local clients,
   * with the frame as the peer sent it when there is one (no second encoding).
   */
  deliverReplicated(message: ChatMessage, encoded?: Uint8Array): void {
    this.intake.observe(message);
    this.metrics.delivered(this.local.deliver(message, encoded));
  }

  // This node's clients and their rooms (the devices of one user are one client to
  // peers), and those its view holds in their grace, for its presence snapshot.
  private localPresence(): LocalPresence {
    const byClient = new Map<string, { clientId: string; nick: string; rooms: Set<string> }>();
    for (const s of this.sessions) {
      const identity = s.identity;
      if (!s.isReady || !identity) continue;
      const entry = byClient.get(identity.clientId) ?? { ...identity, rooms: new Set<string>() };
      for (const room of s.rooms) entry.rooms.add(room);
      byClient.set(identity.clientId, entry);
    }
    const sessions = [...byClient.values()].map((s) => ({ clientId: s.clientId, nick: s.nick, rooms: [...s.rooms] }));
    const departed = this.view.departed().map(({ member, rooms, graceLeftMs }) => ({ ...member, rooms, graceLeftMs }));
    return { sessions, departed };
  }

  /** The byte stream broke (bad framing or schema): say why and close. */
  handleProtocolError(session: ClientSession, error: ProtocolError): void {
    this.deps.log.warn({ ...session.describe(), code: error.code, err: error.message }, 'protocol error from client');
    this.closeWithError(session, error.code, error.message);
  }

  handleOverflow(session: ClientSession): void {
    const limit = this.deps.config.limits.maxOutboundBytes;
    this.deps.log.warn({ ...session.describe(), limit }, 'slow consumer disconnected');
    this.closeWithError(session, 'SLOW_CONSUMER', `outbound buffer exceeded ${limit} bytes; read faster or reconnect`);
  }

  /**
   * The connection is gone; forget the session. Unless the client said bye, its rooms
   * are not left but held for a resume (PresenceView): peers get one `offline` and
   * hold them too.
   */
  close(session: ClientSession): void {
    if (!this.sessions.delete(session)) return;
    session.isClosed = true;
    session.cancelExpiry();
    const identity = session.identity;
    if (!identity) return;
    const key = nickKey(identity.nick);
    const holders = this.byNick.get(key);
    if (holders?.delete(session) && holders.size === 0) this.byNick.delete(key);
    const rooms = [...session.rooms];
    for (const room of rooms) this.local.remove(room, session);
    this.local.unregisterClient(session);
    this.view.offline(localSource(session.sessionId), identity.clientId, { isGoodbye: session.hasSaidBye });
    // Peers see clients, not sessions: another device of this user still here keeps it
    // online, and only the rooms none of its sessions is in are left.
    if (this.local.sessionsOf(identity.clientId).size === 0) this.presence.changed({ event: 'offline', ...identity });
    else for (const room of rooms) if (!this.isClientIn(identity.clientId, room)) this.announceLeft(identity, room);
    this.deps.log.info(session.describe(), 'client disconnected');
  }

  /**
   * Membership changed: when the client addresses of the live nodes did, every client
   * is told, so its failover list holds nodes that joined after it connected.
   */
  clusterChanged(): void {
    for (const transport of CLIENT_TRANSPORTS) {
      const servers = this.deps.cluster.clientAddresses(transport);
      const told = [...servers].sort().join(' ');
      if (told === (this.toldServers.get(transport) ?? '')) continue;
      this.toldServers.set(transport, told);
      const bytes = encodeFrame({ type: 'servers', servers });
      for (const session of this.sessions) {
        if (session.isReady && session.link.transport === transport) session.link.sendEncoded(bytes);
      }
    }
  }

  /**
   * Drops connections that have not finished their hello within the handshake timeout,
   * and sessions that have sent nothing (not even a ping) within the idle timeout.
   */
  sweepIdle(): void {
    const { idleTimeoutMs, handshakeTimeoutMs } = this.deps.config.limits;
    const now = this.deps.now();
    const deadline = now - idleTimeoutMs;
    for (const session of this.sessions) {
      if (!session.isReady && session.openedAt < now - handshakeTimeoutMs) {
        this.deps.log.warn(session.describe(), 'client handshake timed out');
        this.closeWithError(session, 'HANDSHAKE_TIMEOUT', `no hello within ${handshakeTimeoutMs} ms of connecting`);
        continue;
      }
      if (session.lastHeardAt >= deadline) continue;
      this.deps.log.info(session.describe(), 'idle client disconnected');
      this.closeWithError(
        session,
        'IDLE_TIMEOUT',
        `nothing received for ${idleTimeoutMs} ms; send pings to stay connected`,
      );
    }
  }

  shutdown(): void {
    for (const session of [...this.sessions]) {
      this.closeWithError(session, 'SHUTTING_DOWN', 'the node is shutting down; connect to another node');
    }
    this.awaited.clear();
    this.view.clear();
  }

  private dispatch(session: ClientSession, frame: ClientFrame): void {
    if (frame.type === 'ping') return session.link.send({ type: 'pong', nonce: frame.nonce });
    if (frame.type === 'pong') return;
    if (!session.isReady) {
      if (frame.type !== 'hello') throw new ChatError('NOT_READY', `"${frame.type}" frame before hello`, true);
      if (session.isAuthenticating) throw new ChatError('UNEXPECTED_FRAME', 'hello was already received', true);
      return this.hello(session, frame);
    }
    if (frame.type === 'hello') throw new ChatError('UNEXPECTED_FRAME', 'hello was already received', true);
    // Not rate limited: a goodbye must get through even from a client that is throttled.
    if (frame.type === 'bye') return this.bye(session);
    if (!session.bucket.tryTake()) {
      const { ratePerSec, rateBurst } = this.deps.config.limits;
      throw new ChatError('RATE_LIMITED', `more than ${ratePerSec} frames/s (burst ${rateBurst}); slow down`);
    }
    switch (frame.type) {
      case 'join':
        return this.join(session, frame);
      case 'leave':
        return this.leave(session, frame);
      case 'send':
        return this.send(session, frame);
      case 'dm':
        return this.directMessage(session, frame);
      case 'inbox':
        if (!session.inbox?.isReplaying) {
          throw new ChatError('UNEXPECTED_FRAME', 'inbox frame when no inbox replay is under way', true);
        }
        session.inbox.advanceTo(frame.cursor);
        return this.replayInbox(session);
      case 'history':
        return this.history(session, frame);
      case 'rooms':
        return session.link.send({ type: 'rooms_reply', reqId: frame.reqId, rooms: this.view.rooms() });
      case 'who':
        checkRoom(frame.room, this.deps.config.limits);
        return session.link.send({
          type: 'who_reply',
          reqId: frame.reqId,
          room: frame.room,
          members: this.view.members(frame.room),
        });
    }
  }

  /**
   * Without auth the client names itself (clientId, nick). With auth the token does:
   * its `sub` becomes the clientId and its nick the nick, and the hello's clientId only
   * names the device, so several devices of one user coexist (docs/protocol.md).
   */
  private hello(session: ClientSession, frame: ClientFrameOf<'hello'>): void {
    if (frame.version !== PROTOCOL_VERSION) {
      throw new ChatError(
        'VERSION_MISMATCH',
        `client speaks protocol version ${frame.version}, this node speaks version ${PROTOCOL_VERSION}`,
        true,
      );
    }
    const { verifyToken } = this.deps;
    if (!verifyToken) {
      this.welcome(session, frame, { clientId: frame.clientId, nick: frame.nick });
      return;
    }
    if (frame.token === undefined) {
      this.deps.log.warn({ ...session.describe(), code: 'AUTH_REQUIRED' }, 'client token refused: none given');
      throw new ChatError('AUTH_REQUIRED', 'this node requires a token in hello (auth.required)', true);
    }
    session.isAuthenticating = true;
    verifyToken(frame.token).then(
      (verified) => {
        if (session.isClosed) return;
        session.isAuthenticating = false;
        try {
          this.welcome(session, frame, { clientId: verified.userId, nick: verified.nick });
          this.expireAt(session, verified.expiresAt);
        } catch (err) {
          this.fail(session, frame, err);
        }
      },
      (err: unknown) => {
        if (session.isClosed) return;
        this.deps.log.warn({ ...session.describe(), code: (err as ChatError).code }, 'client token refused');
        this.fail(session, frame, err);
      },
    );
  }

  private welcome(session: ClientSession, frame: ClientFrameOf<'hello'>, identity: Identity): void {
    checkNick(identity.nick, this.deps.config.limits, true);
    const key = nickKey(identity.nick);
    const holders = [...(this.byNick.get(key) ?? [])];
    if (holders.some((holder) => holder.identity?.clientId !== identity.clientId)) {
      throw new ChatError('NICK_TAKEN', `nick "${identity.nick}" is in use; pick another`, true);
    }
    for (const holder of holders) {
      // The same device reconnected before its old connection was noticed as gone.
      if (holder.device === frame.clientId) {
        this.closeWithError(holder, 'SESSION_REPLACED', 'replaced by a newer connection of the same client');
      }
    }
    session.identity = identity;
    session.device = frame.clientId;
    const inboxVector = this.deps.store.versionVector(inboxRoom(identity.clientId));
    // Registered in the same step as the vector is read: a direct message committed
    // from here on is past it and is delivered (or replayed) to this session.
    session.inbox = frame.inbox ? InboxPosition.resuming(frame.inbox) : InboxPosition.live(inboxVector);
    let sameNick = this.byNick.get(key);
    if (!sameNick) {
      sameNick = new Set();
      this.byNick.set(key, sameNick);
    }
    sameNick.add(session);
    this.local.registerClient(session);
    this.view.online(localSource(session.sessionId), session.member(this.deps.nodeId));
    this.awaited.recheck();
    if (this.local.sessionsOf(identity.clientId).size === 1) this.presence.changed({ event: 'online', ...identity });
    this.deps.log.info(session.describe(), 'client connected');
    const { maxMessageLength, idleTimeoutMs } = this.deps.config.limits;
    session.link.send({
      type: 'welcome',
      version: PROTOCOL_VERSION,
      nodeId: this.deps.nodeId,
      sessionId: session.sessionId,
      ...identity,
      servers: this.deps.cluster.clientAddresses(session.link.transport),
      inbox: inboxVector,
      limits: { maxMessageLength, idleTimeoutMs },
    });
    if (frame.inbox) {
      this.metrics.resumed();
      this.replayInbox(session);
    }
  }

  /** An authenticated session ends when its token does: the client must get a new one. */
  private expireAt(session: ClientSession, expiresAt: number): void {
    const wait = expiresAt - this.deps.now();
    if (wait <= 0) {
      this.closeWithError(session, 'TOKEN_EXPIRED', 'the session token has expired; reconnect with a new token');
      return;
    }
    session.cancelExpiry = this.deps.setTimer(
      () => {
        if (session.isClosed) return;
        if (this.deps.now() < expiresAt) return this.expireAt(session, expiresAt);
        this.deps.log.info(session.describe(), 'session token expired');
        this.closeWithError(session, 'TOKEN_EXPIRED', 'the session token has expired; reconnect with a new token');
      },
      Math.min(wait, MAX_TIMER_MS),
    );
  }

  /**
   * Sends a resuming session the next page of direct messages its inbox position has
   * not seen, then `inbox_replayed`. The page that completes the replay lets live
   * direct messages flow in the same step as it is read, so none falls in between.
   */
  private replayInbox(session: ClientSession): void {
    const { identity, inbox } = session;
    if (!identity || !inbox) return;
    const room = inboxRoom(identity.clientId);
    const missed = this.deps.store.after(room, inbox.position, REPLY_PAGE_MESSAGES + 1);
    const page = oldestWithinBudget(missed.slice(0, REPLY_PAGE_MESSAGES));
    for (const message of page) {
      inbox.replayed(message);
      session.link.send(directFrame(message, identity.nick));
    }
    const complete = page.length === missed.length;
    if (complete) inbox.goLive(this.deps.store.versionVector(room));
    session.link.send({ type: 'inbox_replayed', cursor: inbox.position, complete });
  }

  /** The client leaves for good: its rooms are left at once and the connection closed. */
  private bye(session: ClientSession): void {
    session.hasSaidBye = true;
    for (const room of [...session.rooms]) this.leaveRoom(session, room);
    session.link.closeWith();
    this.close(session);
  }

  /**
   * Without a cursor: enter the room with its recent history. With one: send what the
   * cursor has not seen, a page at a time; the session enters the room only with the
   * last page, in the same step that reads it, so nothing falls between replay and live.
   */
  private join(session: ClientSession, frame: ClientFrameOf<'join'>): void {
    const { room, reqId } = frame;
    checkRoom(room, this.deps.config.limits);
    const { maxRoomsPerClient } = this.deps.config.limits;
    if (!session.rooms.has(room) && session.rooms.size >= maxRoomsPerClient) {
      this.deps.log.info({ ...session.describe(), room, limit: maxRoomsPerClient }, 'join refused: too many rooms');
      throw new ChatError('TOO_MANY_ROOMS', `already in ${maxRoomsPerClient} rooms, the most one client may join`);
    }
    const reply = { type: 'joined' as const, reqId, room };
    let history: ChatMessage[];
    if (frame.cursor) {
      const missed = this.deps.store.after(room, frame.cursor, REPLY_PAGE_MESSAGES + 1);
      const page = oldestWithinBudget(missed.slice(0, REPLY_PAGE_MESSAGES));
      if (page.length < missed.length) {
        const cursor = advanceCursor(frame.cursor, page);
        session.link.send({ ...reply, members: this.view.members(room), history: page, cursor, complete: false });
        return;
      }
      history = missed;
    } else {
      history = newestWithinBudget(this.deps.store.latest(room, { limit: this.deps.config.historyOnJoin }).messages);
    }
    this.enterRoom(session, room);
    const cursor = this.deps.store.versionVector(room);
    session.link.send({ ...reply, members: this.view.members(room), history, cursor, complete: true });
    // Shown to the room's other sessions before this one entered, and in neither the
    // history nor the cursor just sent: the session gets them now, as it would live.
    for (const { message, encoded } of this.deps.cluster.shownBeforeCommit(room)) {
      if (message.seq <= (frame.cursor?.[message.origin] ?? 0)) continue;
      session.link.sendEncoded(encoded ?? encodeMessageFrame(message));
    }
  }

  private enterRoom(session: ClientSession, room: string): void {
    if (session.rooms.has(room)) return;
    const member = session.member(this.deps.nodeId);
    const isClientIn = this.isClientIn(member.clientId, room);
    // Announced before the session is in the room: it is not told of its own join.
    this.view.joined(localSource(session.sessionId), room, member);
    this.local.add(room, session);
    if (!isClientIn) this.presence.changed({ event: 'joined', clientId: member.clientId, nick: member.nick, room });
  }

  /** Whether a session of this client (another device, with auth) is in the room here. */
  private isClientIn(clientId: string, room: string): boolean {
    for (const session of this.local.sessionsOf(clientId)) if (session.rooms.has(room)) return true;
    return false;
  }

  private announceLeft(identity: Identity, room: string): void {
    this.presence.changed({ event: 'left', clientId: identity.clientId, nick: identity.nick, room });
  }

  private leave(session: ClientSession, frame: ClientFrameOf<'leave'>): void {
    if (!session.rooms.has(frame.room)) throw new ChatError('NOT_IN_ROOM', `not in room "${frame.room}"`);
    this.leaveRoom(session, frame.room);
    session.link.send({ type: 'left', reqId: frame.reqId, room: frame.room });
  }

  private leaveRoom(session: ClientSession, room: string): void {
    if (!this.local.remove(room, session)) return;
    const identity = session.identity as Identity;
    this.view.left(localSource(session.sessionId), identity.clientId, room);
    if (!this.isClientIn(identity.clientId, room)) this.announceLeft(identity, room);
  }

  private send(session: ClientSession, frame: ClientFrameOf<'send'>): void {
    if (!session.rooms.has(frame.room)) throw new ChatError('NOT_IN_ROOM', `join "${frame.room}" before sending to it`);
    checkText(frame.text, this.deps.config.limits.maxMessageLength);
    this.acceptAndAck(session, frame.room, frame.text, frame.clientMsgId);
  }

  private directMessage(session: ClientSession, frame: ClientFrameOf<'dm'>): void {
    checkText(frame.text, this.deps.config.limits.maxMessageLength);
    const { clientMsgId } = frame;
    // A recipient that is failing over (gone within resumeGraceMs) is still found: the
    // message waits in its inbox and is replayed when it resumes. (accept dedupes first.)
    const recipient = this.findRecipient(frame.to);
    if (recipient) return this.acceptAndAck(session, inboxRoom(recipient.clientId), frame.text, clientMsgId);
    // A resend of a message already taken (here or by a node that has since failed)
    // gets its id, even if its recipient is gone since.
    const earlier = this.intake.earlier(session.identity as Identity, clientMsgId);
    if (earlier) return this.ack(session, earlier, clientMsgId);
    const noSuchUser = `no user "${frame.to}" is connected`;
    const unsettledMs = Math.min(this.presence.unsettledMs(), MAX_RECIPIENT_WAIT_MS);
    if (unsettledMs <= 0 || !this.deps.cluster.hasPeers()) throw new ChatError('NO_SUCH_USER', noSuchUser);
    this.awaited.wait(
      frame.to,
      unsettledMs,
      (found) => {
        if (!session.isClosed) this.acceptAndAck(session, inboxRoom(found.clientId), frame.text, clientMsgId);
      },
      () => this.sendError(session, 'NO_SUCH_USER', noSuchUser, { clientMsgId }),
    );
  }

  private findRecipient(nick: string): Identity | undefined {
    const [connected] = this.byNick.get(nickKey(nick)) ?? [];
    return connected?.identity ?? this.view.findByNick(nick);
  }

  private acceptAndAck(session: ClientSession, room: string, text: string, clientMsgId: string): void {
    const identity = session.identity;
    if (!identity) return;
    this.ack(session, this.intake.accept(identity, room, text, clientMsgId), clientMsgId, room);
  }

  private ack(session: ClientSession, accepted: Promise<MessageId>, clientMsgId: string, room?: string): void {
    const receivedAt = this.deps.now();
    accepted.then(
      (id: MessageId) => {
        if (session.isClosed) return;
        this.metrics.acked(this.deps.now() - receivedAt);
        session.link.send({ type: 'ack', clientMsgId, id });
      },
      (err: unknown) => {
        this.deps.log.error({ err, room, clientMsgId }, 'store append failed; message not acked');
        this.sendError(session, 'INTERNAL', 'the message could not be stored; retry', { clientMsgId });
      },
    );
  }

  private history(session: ClientSession, frame: ClientFrameOf<'history'>): void {
    checkRoom(frame.room, this.deps.config.limits);
    const page = this.deps.store.latest(frame.room, {
      limit: frame.limit,
      ...(frame.before === undefined ? {} : { before: frame.before }),
    });
    const messages = newestWithinBudget(page.messages);
    const hasMore = page.hasMore || messages.length < page.messages.length;
    session.link.send({ type: 'history_reply', reqId: frame.reqId, room: frame.room, messages, hasMore });
  }

  private remotePresenceChanged(change: RemotePresenceChange): void {
    const source = peerSource(change.member.nodeId);
    switch (change.event) {
      case 'online':
        this.view.online(source, change.member);
        break;
      case 'offline':
        this.view.offline(source, change.member.clientId, { isGoodbye: false });
        break;
      case 'joined':
        this.view.joined(source, change.room, change.member);
        break;
      case 'left':
        this.view.left(source, change.member.clientId, change.room);
        break;
      case 'departed':
        this.view.holdDeparted(change.member, change.rooms, change.graceLeftMs ?? this.deps.config.resumeGraceMs);
        break;
    }
    // A client reported here may be the recipient of a direct message waiting for it.
    if (change.event !== 'offline' && change.event !== 'left') this.awaited.recheck();
  }

  private fail(session: ClientSession, frame: ClientFrame, err: unknown): void {
    const ref: Ref = {
      ...('reqId' in frame ? { reqId: frame.reqId } : {}),
      ...('clientMsgId' in frame ? { clientMsgId: frame.clientMsgId } : {}),
    };
    if (err instanceof ChatError) {
      this.deps.log.debug({ ...session.describe(), code: err.code, frame: frame.type }, err.message);
      if (err.fatal) this.closeWithError(session, err.code, err.message, ref);
      else this.sendError(session, err.code, err.message, ref);
      return;
    }
    this.deps.log.error({ ...session.describe(), err, frame: frame.type }, 'unexpected error handling a frame');
    this.sendError(session, 'INTERNAL', 'internal error; the request was not carried out', ref);
  }

  private sendError(session: ClientSession, code: ErrorCode, message: string, ref: Ref): void {
    if (session.isClosed) return;
    this.metrics.errorSent(code);
    session.link.send({ type: 'error', code, message, fatal: false, ...ref });
  }

  private closeWithError(session: ClientSession, code: ErrorCode, message: string, ref: Ref = {}): void {
    if (!session.isClosed) this.metrics.errorSent(code);
    const frame: ServerFrame = { type: 'error', code, message, fatal: true, ...ref };
    session.link.closeWith(frame);
    this.close(session);
  }
}
