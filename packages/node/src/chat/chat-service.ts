import {
  type ChatMessage,
  type ClientFrame,
  type ClientFrameOf,
  type ErrorCode,
  encodeFrame,
  type Member,
  type MessageId,
  PROTOCOL_VERSION,
  type ProtocolError,
  type ServerFrame,
} from '@meshchat/protocol';
import type { Logger } from 'pino';
import type { NodeConfig } from '../config/schema.js';
import { ChatError } from '../errors.js';
import type { MessageStore, VersionVector } from '../store/message-store.js';
import { type ClientLink, ClientSession } from './client-session.js';
import { advanceCursor, newestWithinBudget, oldestWithinBudget } from './reply-budget.js';
import { RoomRegistry } from './room-registry.js';
import { checkNick, checkRoom, checkText, nickKey } from './rules.js';
import { Sequencer } from './sequencer.js';
import { TokenBucket } from './token-bucket.js';

export interface ChatServiceDeps {
  nodeId: string;
  config: Pick<NodeConfig, 'limits' | 'historyOnJoin'>;
  store: MessageStore;
  log: Logger;
  now: () => number;
  newSessionId: () => string;
  /** Client addresses of the cluster's nodes, handed to clients for failover. */
  clientAddresses: () => string[];
}

// Private rooms that hold a user's direct messages are named after the recipient.
const inboxRoom = (clientId: string) => `@${clientId}`;

/**
 * The chat rooms of one node: sessions, rooms, presence and fan-out. It takes frames
 * and gives frames through ClientLink, so it runs the same behind real sockets and in
 * tests; it owns no socket, timer or file.
 */
export class ChatService {
  private readonly sessions = new Set<ClientSession>();
  private readonly byNick = new Map<string, ClientSession>();
  private readonly rooms = new RoomRegistry();
  private readonly sequencer: Sequencer;
  // Sends accepted but not yet committed, so a quick resend is not accepted twice.
  private readonly inFlight = new Map<string, Promise<MessageId>>();

  constructor(private readonly deps: ChatServiceDeps) {
    this.sequencer = new Sequencer(deps.nodeId, deps.store, deps.now);
  }

  get sessionCount(): number {
    return this.sessions.size;
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

  /** The byte stream broke (bad framing or schema): say why and close. */
  handleProtocolError(session: ClientSession, error: ProtocolError): void {
    this.deps.log.warn({ ...session.describe(), code: error.code, err: error.message }, 'protocol error from client');
    this.closeWithError(session, error.code, error.message);
  }

  handleOverflow(session: ClientSession): void {
    this.deps.log.warn(
      { ...session.describe(), limit: this.deps.config.limits.maxOutboundBytes },
      'slow consumer disconnected',
    );
    this.closeWithError(
      session,
      'SLOW_CONSUMER',
      `outbound buffer exceeded ${this.deps.config.limits.maxOutboundBytes} bytes; read faster or reconnect`,
    );
  }

  /** The connection is gone; forget the session and tell its rooms. */
  close(session: ClientSession): void {
    if (!this.sessions.delete(session)) return;
    session.isClosed = true;
    const identity = session.identity;
    if (!identity) return;
    if (this.byNick.get(nickKey(identity.nick)) === session) this.byNick.delete(nickKey(identity.nick));
    for (const room of [...session.rooms]) this.leaveRoom(session, room);
    this.deps.log.info(session.describe(), 'client disconnected');
  }

  /** Drops sessions that have sent nothing (not even a ping) within the idle timeout. */
  sweepIdle(): void {
    const deadline = this.deps.now() - this.deps.config.limits.idleTimeoutMs;
    for (const session of this.sessions) {
      if (session.lastHeardAt >= deadline) continue;
      this.deps.log.info(session.describe(), 'idle client disconnected');
      this.closeWithError(
        session,
        'IDLE_TIMEOUT',
        `nothing received for ${this.deps.config.limits.idleTimeoutMs} ms; send pings to stay connected`,
      );
    }
  }

  shutdown(): void {
    for (const session of [...this.sessions]) {
      this.closeWithError(session, 'SHUTTING_DOWN', 'the node is shutting down; connect to another node');
    }
  }

  private dispatch(session: ClientSession, frame: ClientFrame): void {
    if (frame.type === 'ping') return session.link.send({ type: 'pong', nonce: frame.nonce });
    if (frame.type === 'pong') return;
    if (!session.isReady) {
      if (frame.type !== 'hello') throw new ChatError('NOT_READY', `"${frame.type}" frame before hello`, true);
      return this.hello(session, frame);
    }
    if (frame.type === 'hello') throw new ChatError('UNEXPECTED_FRAME', 'hello was already received', true);
    if (!session.bucket.tryTake()) {
      throw new ChatError(
        'RATE_LIMITED',
        `more than ${this.deps.config.limits.ratePerSec} frames/s (burst ${this.deps.config.limits.rateBurst}); slow down`,
      );
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
      case 'history':
        return this.history(session, frame);
      case 'rooms':
        return session.link.send({ type: 'rooms_reply', reqId: frame.reqId, rooms: this.rooms.summaries() });
      case 'who':
        return this.who(session, frame);
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
    session.identity = { clientId: frame.clientId, nick: frame.nick };
    this.byNick.set(nickKey(frame.nick), session);
    this.deps.log.info(session.describe(), 'client connected');
    session.link.send({
      type: 'welcome',
      version: PROTOCOL_VERSION,
      nodeId: this.deps.nodeId,
      sessionId: session.sessionId,
      clientId: frame.clientId,
      nick: frame.nick,
      servers: this.deps.clientAddresses(),
      limits: {
        maxMessageLength: this.deps.config.limits.maxMessageLength,
        idleTimeoutMs: this.deps.config.limits.idleTimeoutMs,
      },
    });
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
    if (frame.cursor) {
      const missed = this.deps.store.after(room, frame.cursor);
      const page = oldestWithinBudget(missed);
      if (page.length < missed.length) {
        const cursor = advanceCursor(frame.cursor, page);
        session.link.send({ ...reply, members: this.members(room), history: page, cursor, complete: false });
        return;
      }
      this.enterRoom(session, room);
      session.link.send({
        ...reply,
        members: this.members(room),
        history: missed,
        cursor: this.position(room),
        complete: true,
      });
      return;
    }
    const recent = this.deps.store.latest(room, { limit: this.deps.config.historyOnJoin }).messages;
    this.enterRoom(session, room);
    const history = newestWithinBudget(recent);
    session.link.send({ ...reply, members: this.members(room), history, cursor: this.position(room), complete: true });
  }

  private enterRoom(session: ClientSession, room: string): void {
    if (this.rooms.add(room, session)) this.announce(room, 'joined', session);
  }

  private members(room: string): Member[] {
    return [...this.rooms.members(room)].map((s) => s.member(this.deps.nodeId));
  }

  private position(room: string): VersionVector {
    return this.deps.store.versionVector(room);
  }

  private leave(session: ClientSession, frame: ClientFrameOf<'leave'>): void {
    if (!session.rooms.has(frame.room)) throw new ChatError('NOT_IN_ROOM', `not in room "${frame.room}"`);
    this.leaveRoom(session, frame.room);
    session.link.send({ type: 'left', reqId: frame.reqId, room: frame.room });
  }

  private leaveRoom(session: ClientSession, room: string): void {
    if (this.rooms.remove(room, session)) this.announce(room, 'left', session);
  }

  private announce(room: string, event: 'joined' | 'left', subject: ClientSession): void {
    const bytes = encodeFrame({ type: 'presence', room, event, member: subject.member(this.deps.nodeId) });
    for (const member of this.rooms.members(room)) if (member !== subject) member.link.sendEncoded(bytes);
  }

  private send(session: ClientSession, frame: ClientFrameOf<'send'>): void {
    if (!session.rooms.has(frame.room)) {
      throw new ChatError('NOT_IN_ROOM', `join "${frame.room}" before sending to it`);
    }
    checkText(frame.text, this.deps.config.limits.maxMessageLength);
    this.accept(session, frame.room, frame.text, frame.clientMsgId, (message) => {
      const bytes = encodeFrame({ type: 'message', ...message });
      for (const member of this.rooms.members(message.room)) member.link.sendEncoded(bytes);
    });
  }

  private directMessage(session: ClientSession, frame: ClientFrameOf<'dm'>): void {
    checkText(frame.text, this.deps.config.limits.maxMessageLength);
    const recipient = this.byNick.get(nickKey(frame.to));
    if (!recipient?.identity) throw new ChatError('NO_SUCH_USER', `no user "${frame.to}" is connected`);
    const to = recipient.identity.nick;
    this.accept(session, inboxRoom(recipient.identity.clientId), frame.text, frame.clientMsgId, (message) => {
      if (recipient.isClosed) return;
      const { room, origin, seq, ...rest } = message;
      recipient.link.send({ type: 'direct', id: { room, origin, seq }, to, ...rest });
    });
  }

  /**
   * Gives a message its id, commits it, delivers it, then acks the sender. A resend
   * of something already accepted (same clientId and clientMsgId) is acked with the
   * original id and not delivered again.
   */
  private accept(
    session: ClientSession,
    room: string,
    text: string,
    clientMsgId: string,
    deliver: (message: ChatMessage) => void,
  ): void {
    const from = session.identity;
    if (!from) return;
    const key = `${from.clientId}\u0000${clientMsgId}`;
    const known = this.deps.store.findByClientMsgId(from.clientId, clientMsgId);
    const pending = known ? Promise.resolve(known) : this.inFlight.get(key);
    if (pending) {
      pending.then(
        (id) => session.link.send({ type: 'ack', clientMsgId, id }),
        () => this.sendError(session, 'INTERNAL', 'the message could not be stored; retry', { clientMsgId }),
      );
      return;
    }
    const message = this.sequencer.next(room, { clientId: from.clientId, nick: from.nick }, text, clientMsgId);
    const id: MessageId = { room: message.room, origin: message.origin, seq: message.seq };
    const committed = this.deps.store.append(message).then(() => id);
    this.inFlight.set(key, committed);
    committed
      .then(
        () => {
          deliver(message);
          if (!session.isClosed) session.link.send({ type: 'ack', clientMsgId, id });
        },
        (err: unknown) => {
          this.deps.log.error({ err, room, clientMsgId }, 'store append failed; message not acked');
          this.sendError(session, 'INTERNAL', 'the message could not be stored; retry', { clientMsgId });
        },
      )
      .finally(() => this.inFlight.delete(key));
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

  private who(session: ClientSession, frame: ClientFrameOf<'who'>): void {
    checkRoom(frame.room);
    const members = [...this.rooms.members(frame.room)].map((s) => s.member(this.deps.nodeId));
    session.link.send({ type: 'who_reply', reqId: frame.reqId, room: frame.room, members });
  }

  private fail(session: ClientSession, frame: ClientFrame, err: unknown): void {
    const ref = {
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

  private sendError(
    session: ClientSession,
    code: ErrorCode,
    message: string,
    ref: { reqId?: number; clientMsgId?: string },
  ): void {
    if (!session.isClosed) session.link.send({ type: 'error', code, message, fatal: false, ...ref });
  }

  private closeWithError(
    session: ClientSession,
    code: ErrorCode,
    message: string,
    ref: { reqId?: number; clientMsgId?: string } = {},
  ): void {
    const frame: ServerFrame = { type: 'error', code, message, fatal: true, ...ref };
    session.link.closeWith(frame);
    this.close(session);
  }
}
