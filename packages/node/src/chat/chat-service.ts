import {
  type ChatMessage,
  type ClientFrame,
  type ClientFrameOf,
  type ClientTransport,
  type ErrorCode,
  encodeFrame,
  type MessageId,
  type PeerFrameOf,
  PROTOCOL_VERSION,
  type PresenceVersion,
  type ProtocolError,
  type ServerFrame,
} from '@meshchat/protocol';
import type { Logger } from 'pino';
import type { NodeConfig } from '../config/schema.js';
import { MAX_RECIPIENT_WAIT_MS, REPLY_PAGE_MESSAGES } from '../constants.js';
import { ChatError } from '../errors.js';
import type { MessageStore } from '../store/message-store.js';
import { AwaitedRecipients } from './awaited-recipients.js';
import { type ClientLink, ClientSession, type Identity } from './client-session.js';
import { InboxPosition } from './inbox-position.js';
import { directFrame, inboxRoom, LocalRooms } from './local-rooms.js';
import { MessageIntake, type OriginGate } from './message-intake.js';
import { isNewer, PresenceDirectory, type RemotePresenceChange } from './presence-directory.js';
import { localSource, PresenceView, peerSource } from './presence-view.js';
import { advanceCursor, newestWithinBudget, oldestWithinBudget } from './reply-budget.js';
import { checkNick, checkRoom, checkText, nickKey } from './rules.js';
import { TokenBucket } from './token-bucket.js';

export type PresenceDelta = Omit<PeerFrameOf<'presence_delta'>, 'type'>;
type PresenceChange = Omit<PresenceDelta, 'epoch' | 'version'>;
export type PresenceSnapshot = PeerFrameOf<'presence_snapshot'>;

/** What the chat layer needs from the rest of the cluster. */
export interface ClusterPort {
  /** Relays a committed local message to every peer; `encoded` is its message frame. */
  publish(message: ChatMessage, encoded: Uint8Array): void;
  /** Tells every peer about a change to this node's sessions. */
  presenceChanged(delta: PresenceDelta): void;
  /** Resolves once enough peers hold this node's (room, seq): the write quorum. */
  whenReplicated(room: string, seq: number): Promise<void>;
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
}

type Ref = { reqId?: number; clientMsgId?: string };

const CLIENT_TRANSPORTS: readonly ClientTransport[] = ['tcp', 'websocket'];

/**
 * The chat rooms of one node: sessions, rooms, presence and messages. It takes frames
 * and gives frames through ClientLink and ClusterPort, so it runs the same behind real
 * sockets and in tests; it owns no socket, timer or file.
 */
export class ChatService {
  private readonly sessions = new Set<ClientSession>();
  private readonly byNick = new Map<string, ClientSession>();
  private readonly local = new LocalRooms();
  private readonly intake: MessageIntake;
  /** Sessions on the other nodes, as they report them. */
  readonly directory: PresenceDirectory;
  // Who is in which room as this node's clients are told, with the grace for resumes.
  private readonly view: PresenceView;
  // The client addresses last told to clients of each transport, to push only a change.
  private readonly toldServers = new Map<ClientTransport, string>();
  // This node's presence version (see PresenceVersion): start time, then one per change.
  private readonly presenceEpoch: number;
  private presenceVersion = 0;
  // Until then this node may not know every client that is failing over (AwaitedRecipients).
  private presenceSettlesAt: number;
  private readonly awaited: AwaitedRecipients;

  constructor(private readonly deps: ChatServiceDeps) {
    this.intake = new MessageIntake({
      store: deps.store,
      now: deps.now,
      gate: deps.gate,
      onCommitted: (message, encoded) => {
        this.local.deliver(message, encoded);
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
    this.directory = new PresenceDirectory({
      onChange: (change) => this.remotePresenceChanged(change),
      isDead: (nodeId) => deps.cluster.isDead(nodeId),
    });
    this.awaited = new AwaitedRecipients({ find: (nick) => this.findRecipient(nick), setTimer: deps.setTimer });
    this.presenceEpoch = deps.now();
    this.presenceSettlesAt = this.presenceEpoch + deps.config.resumeGraceMs;
  }

  /**
   * A peer was declared dead: its clients leave (held for a resume), and until they
   * have had the grace to resume, a direct message to a nick not found here waits.
   */
  nodeDied(nodeId: string): void {
    this.presenceSettlesAt = this.deps.now() + this.deps.config.resumeGraceMs;
    this.directory.dropNode(nodeId);
  }

  get sessionCount(): number {
    return this.sessions.size;
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
    this.local.deliver(message, encoded);
  }

  /** This node's presence version, for anti-entropy digests. */
  get presenceVersionOfSelf(): { epoch: number; version: number } {
    return { epoch: this.presenceEpoch, version: this.presenceVersion };
  }

  /** The presence versions held, per owner node, this one included (anti-entropy). */
  presenceVersions(): Record<string, PresenceVersion> {
    return { ...this.directory.versions(), [this.deps.nodeId]: this.presenceVersionOfSelf };
  }

  /**
   * Sends a peer the presence snapshots we hold newer than its versions (our own or
   * copies of others'), and says whether it holds any newer than ours.
   */
  reconcilePresence(
    peer: string,
    theirs: Record<string, PresenceVersion>,
    send: (frame: PresenceSnapshot) => void,
  ): boolean {
    const mine = this.presenceVersions();
    for (const [owner, version] of Object.entries(mine)) {
      const theirVersion = theirs[owner];
      if (owner === peer || (theirVersion && !isNewer(version, theirVersion))) continue;
      const snapshot = owner === this.deps.nodeId ? this.presenceSnapshot() : this.directory.snapshotOf(owner);
      if (snapshot) send(snapshot);
    }
    return Object.entries(theirs).some(([owner, version]) => {
      const held = mine[owner];
      return owner !== this.deps.nodeId && (!held || isNewer(version, held));
    });
  }

  /** This node's sessions and their rooms, for a peer whose link came up or that is behind. */
  presenceSnapshot(): PresenceSnapshot {
    const sessions = [...this.sessions]
      .filter((s) => s.isReady)
      .map((s) => ({
        clientId: s.identity?.clientId as string,
        nick: s.identity?.nick as string,
        rooms: [...s.rooms],
      }));
    const departed = this.view.departed().map(({ member, rooms, graceLeftMs }) => ({ ...member, rooms, graceLeftMs }));
    return {
      type: 'presence_snapshot',
      nodeId: this.deps.nodeId,
      epoch: this.presenceEpoch,
      version: this.presenceVersion,
      sessions,
      departed,
    };
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
    const identity = session.identity;
    if (!identity) return;
    if (this.byNick.get(nickKey(identity.nick)) === session) this.byNick.delete(nickKey(identity.nick));
    for (const room of [...session.rooms]) this.local.remove(room, session);
    this.local.unregisterClient(session);
    this.view.offline(localSource(session.sessionId), identity.clientId, { isGoodbye: session.hasSaidBye });
    this.presenceChanged({ event: 'offline', ...identity });
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

  /** Drops sessions that have sent nothing (not even a ping) within the idle timeout. */
  sweepIdle(): void {
    const { idleTimeoutMs } = this.deps.config.limits;
    const deadline = this.deps.now() - idleTimeoutMs;
    for (const session of this.sessions) {
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
        checkRoom(frame.room);
        return session.link.send({
          type: 'who_reply',
          reqId: frame.reqId,
          room: frame.room,
          members: this.view.members(frame.room),
        });
    }
  }

  private hello(session: ClientSession, frame: ClientFrameOf<'hello'>): void {
    if (frame.version !== PROTOCOL_VERSION) {
      throw new ChatError(
        'VERSION_MISMATCH',
        `client speaks protocol version ${frame.version}, this node speaks version ${PROTOCOL_VERSION}`,
        true,
      );
    }
    checkNick(frame.nick, true);
    const holder = this.byNick.get(nickKey(frame.nick));
    if (holder && holder.identity?.clientId !== frame.clientId) {
      throw new ChatError('NICK_TAKEN', `nick "${frame.nick}" is in use; pick another`, true);
    }
    if (holder) {
      // The same client reconnected before its old connection was noticed as gone.
      this.closeWithError(holder, 'SESSION_REPLACED', 'replaced by a newer connection of the same client');
    }
    const identity = { clientId: frame.clientId, nick: frame.nick };
    session.identity = identity;
    const inboxVector = this.deps.store.versionVector(inboxRoom(identity.clientId));
    // Registered in the same step as the vector is read: a direct message committed
    // from here on is past it and is delivered (or replayed) to this session.
    session.inbox = frame.inbox ? InboxPosition.resuming(frame.inbox) : InboxPosition.live(inboxVector);
    this.byNick.set(nickKey(frame.nick), session);
    this.local.registerClient(session);
    this.view.online(localSource(session.sessionId), session.member(this.deps.nodeId));
    this.awaited.recheck();
    this.presenceChanged({ event: 'online', ...identity });
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
    if (frame.inbox) this.replayInbox(session);
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
    checkRoom(room);
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
  }

  private enterRoom(session: ClientSession, room: string): void {
    if (session.rooms.has(room)) return;
    const member = session.member(this.deps.nodeId);
    // Announced before the session is in the room: it is not told of its own join.
    this.view.joined(localSource(session.sessionId), room, member);
    this.local.add(room, session);
    this.presenceChanged({ event: 'joined', clientId: member.clientId, nick: member.nick, room });
  }

  private leave(session: ClientSession, frame: ClientFrameOf<'leave'>): void {
    if (!session.rooms.has(frame.room)) throw new ChatError('NOT_IN_ROOM', `not in room "${frame.room}"`);
    this.leaveRoom(session, frame.room);
    session.link.send({ type: 'left', reqId: frame.reqId, room: frame.room });
  }

  private leaveRoom(session: ClientSession, room: string): void {
    if (!this.local.remove(room, session)) return;
    const member = session.member(this.deps.nodeId);
    this.view.left(localSource(session.sessionId), member.clientId, room);
    this.presenceChanged({ event: 'left', clientId: member.clientId, nick: member.nick, room });
  }

  private send(session: ClientSession, frame: ClientFrameOf<'send'>): void {
    if (!session.rooms.has(frame.room)) throw new ChatError('NOT_IN_ROOM', `join "${frame.room}" before sending to it`);
    checkText(frame.text, this.deps.config.limits.maxMessageLength);
    this.acceptAndAck(session, frame.room, frame.text, frame.clientMsgId);
  }

  private directMessage(session: ClientSession, frame: ClientFrameOf<'dm'>): void {
    checkText(frame.text, this.deps.config.limits.maxMessageLength);
    const { clientMsgId } = frame;
    const identity = session.identity as Identity;
    // A resend of a message already taken (here or by a node that has since failed)
    // gets its id, whoever its recipient now is.
    const earlier = this.intake.earlier(identity, clientMsgId);
    if (earlier) return this.ack(session, earlier, clientMsgId);
    // A recipient that is failing over (gone within resumeGraceMs) is still found: the
    // message waits in its inbox and is replayed when it resumes.
    const recipient = this.findRecipient(frame.to);
    if (recipient) return this.acceptAndAck(session, inboxRoom(recipient.clientId), frame.text, clientMsgId);
    const noSuchUser = `no user "${frame.to}" is connected`;
    const unsettledMs = Math.min(this.presenceSettlesAt - this.deps.now(), MAX_RECIPIENT_WAIT_MS);
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
    return this.byNick.get(nickKey(nick))?.identity ?? this.view.findByNick(nick);
  }

  private acceptAndAck(session: ClientSession, room: string, text: string, clientMsgId: string): void {
    const identity = session.identity;
    if (!identity) return;
    this.ack(session, this.intake.accept(identity, room, text, clientMsgId), clientMsgId, room);
  }

  private ack(session: ClientSession, accepted: Promise<MessageId>, clientMsgId: string, room?: string): void {
    accepted.then(
      (id: MessageId) => {
        if (!session.isClosed) session.link.send({ type: 'ack', clientMsgId, id });
      },
      (err: unknown) => {
        this.deps.log.error({ err, room, clientMsgId }, 'store append failed; message not acked');
        this.sendError(session, 'INTERNAL', 'the message could not be stored; retry', { clientMsgId });
      },
    );
  }

  private history(session: ClientSession, frame: ClientFrameOf<'history'>): void {
    checkRoom(frame.room);
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

  private presenceChanged(change: PresenceChange): void {
    this.presenceVersion++;
    this.deps.cluster.presenceChanged({ ...change, epoch: this.presenceEpoch, version: this.presenceVersion });
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
    if (!session.isClosed) session.link.send({ type: 'error', code, message, fatal: false, ...ref });
  }

  private closeWithError(session: ClientSession, code: ErrorCode, message: string, ref: Ref = {}): void {
    const frame: ServerFrame = { type: 'error', code, message, fatal: true, ...ref };
    session.link.closeWith(frame);
    this.close(session);
  }
}
