import {
  backoffDelay,
  type ChatMessage,
  type Cursor,
  encodeFrame,
  FrameDecoder,
  type HistoryPosition,
  type Member,
  type MessageId,
  PROTOCOL_VERSION,
  type RoomSummary,
  type ServerFrame,
  type ServerFrameOf,
  serverFrameSchemas,
} from '@meshchat/protocol';
import {
  BYE_TIMEOUT_MS,
  DEFAULT_BACKOFF,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_PING_MS,
  DEFAULT_PING_TIMEOUT_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  SILENCE_CHECKS_PER_TIMEOUT,
} from './constants.js';
import { Emitter } from './emitter.js';
import { ChatClientError } from './errors.js';
import { Outbox } from './outbox.js';
import { PendingRequests, type RequestFrame } from './pending-requests.js';
import { randomId } from './random-id.js';
import { RoomCursors } from './room-cursors.js';
import { SeenPosition } from './seen-position.js';
import { ServerList } from './server-list.js';
import type { Transport, TransportConnection } from './transport.js';

export interface ChatClientOptions {
  /** "host:port" of one or more nodes; one reachable seed is enough. */
  servers: string[];
  nick: string;
  /**
   * Stable id of this client across reconnects; a random one when not given. With a
   * token it names this device: the node takes the user's id from the token.
   */
  clientId?: string;
  /**
   * A signed token (JWT) for nodes that require authentication, sent in every hello.
   * A function is called at each connection, so an application can hand out a fresh one.
   * The node takes the clientId and nick from it (see `identity`).
   */
  token?: string | (() => string);
  transport: Transport;
  /**
   * The client pings every pingMs (default 1000) and leaves a node it has heard nothing
   * from for pingTimeoutMs (default 2000), checking the silence 8 times per pingTimeoutMs.
   */
  pingMs?: number;
  pingTimeoutMs?: number;
  /** Bound on TCP connect plus hello/welcome with one node. */
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  backoff?: { initialMs?: number; maxMs?: number };
  random?: () => number;
  /**
   * Add the addresses nodes advertise to the server list (default true). Turn it off
   * when clients reach the cluster through addresses of their own (a load balancer,
   * NAT, a proxy) and the advertised ones are not reachable from them.
   */
  discoverServers?: boolean;
}

export type DirectMessage = Omit<ServerFrameOf<'direct'>, 'type'>;
export type PresenceEvent = Omit<ServerFrameOf<'presence'>, 'type'>;

export interface ConnectedInfo {
  nodeId: string;
  server: string;
  sessionId: string;
  /** Set after a reconnect: from noticing the loss to being back in every room and the inbox. */
  failoverMs?: number;
  /** Set after a reconnect: the connection lost, which node it was and why. */
  lost?: DisconnectedInfo;
  /** Room and direct messages missed while away and delivered by the resume. */
  caughtUp: number;
}
export interface DisconnectedInfo {
  nodeId: string;
  server: string;
  reason: string;
}
export interface ReconnectingInfo {
  attempt: number;
  delayMs: number;
  /** The server the next attempt goes to. */
  server: string;
  /** Why the connection, or the attempt before this one, ended. */
  reason: string;
}

export interface ChatClientEvents {
  message: ChatMessage;
  direct: DirectMessage;
  presence: PresenceEvent;
  connected: ConnectedInfo;
  disconnected: DisconnectedInfo;
  reconnecting: ReconnectingInfo;
  /** A problem not tied to one call (a node error frame, a failed resume). */
  error: ChatClientError;
  /** The client stopped for good: close() or an error that retrying cannot fix. */
  closed: { reason: string };
}

// Errors at hello that another node would answer the same way; retrying cannot help.
const FINAL_CODES = new Set([
  'INVALID_NICK',
  'NICK_TAKEN',
  'VERSION_MISMATCH',
  'SESSION_REPLACED',
  'AUTH_REQUIRED',
  'TOKEN_INVALID',
  'TOKEN_SIGNATURE_INVALID',
]);

interface Link {
  server: string;
  connection: TransportConnection;
  decoder: FrameDecoder<typeof serverFrameSchemas>;
  welcome?: ServerFrameOf<'welcome'>;
  lastHeardAt: number;
  // Rejoins sent by the resume on this link and not answered yet.
  rejoins: Set<number>;
  // Messages the rejoins delivered that the client had missed.
  caughtUp: number;
  // The hello carried an inbox cursor and the replay of direct messages is not complete.
  isReplayingInbox: boolean;
  // Every room and the inbox caught up, the outbox resent: new sends may go straight out.
  isResumed: boolean;
  closeReason?: string;
  finalError?: ChatClientError;
  closed: Promise<void>;
  markClosed(): void;
}

/**
 * A chat client that stays connected to a cluster: on losing its node it moves to
 * another, rejoins its rooms from its cursors, resends unacked messages and shows
 * every message exactly once. The byte transport is injected (TCP or WebSocket).
 */
export class BaseChatClient extends Emitter<ChatClientEvents> {
  readonly clientId: string;
  readonly nick: string;
  private readonly options: Required<Omit<ChatClientOptions, 'clientId' | 'backoff' | 'token'>> & {
    backoff: { initialMs: number; maxMs: number };
  };
  private readonly servers: ServerList;
  private readonly cursors = new RoomCursors();
  // Where the client is in its inbox of direct messages; set by the first welcome.
  private inbox: SeenPosition | undefined;
  private readonly outbox = new Outbox();
  private readonly requests: PendingRequests;
  private link: Link | undefined;
  private attempt = 0;
  private lost: (DisconnectedInfo & { at: number }) | undefined;
  private isClosed = false;
  private firstConnect: { resolve(): void; reject(err: ChatClientError): void; failures: string[] } | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private keepaliveTimer: ReturnType<typeof setInterval> | undefined;
  private dialTimer: ReturnType<typeof setTimeout> | undefined;
  private pingNonce = 0;
  private readonly token: (() => string) | undefined;
  private readonly isTokenFixed: boolean;
  // As the last welcome named this client: with a token, the user's id and nick.
  private welcomedAs: { clientId: string; nick: string } | undefined;

  constructor(options: ChatClientOptions) {
    super();
    if (options.servers.length === 0) throw new ChatClientError('CONNECT_FAILED', 'no servers given');
    const random = options.random ?? Math.random;
    this.options = {
      servers: options.servers,
      nick: options.nick,
      transport: options.transport,
      pingMs: options.pingMs ?? DEFAULT_PING_MS,
      pingTimeoutMs: options.pingTimeoutMs ?? DEFAULT_PING_TIMEOUT_MS,
      connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      backoff: {
        initialMs: options.backoff?.initialMs ?? DEFAULT_BACKOFF.initialMs,
        maxMs: options.backoff?.maxMs ?? DEFAULT_BACKOFF.maxMs,
      },
      random,
      discoverServers: options.discoverServers ?? true,
    };
    this.nick = options.nick;
    this.clientId = options.clientId ?? randomId();
    this.servers = new ServerList(options.servers, random);
    this.requests = new PendingRequests(this.options.requestTimeoutMs);
    const { token } = options;
    this.token = token === undefined ? undefined : typeof token === 'string' ? () => token : token;
    this.isTokenFixed = typeof token === 'string';
  }

  /**
   * Who the node says this client is, from the last welcome: the clientId and nick asked
   * for, or with a token the user id and nick the token carries. Undefined before.
   */
  get identity(): { clientId: string; nick: string } | undefined {
    return this.welcomedAs;
  }

  /** The node this client is on, while connected. */
  get nodeId(): string | undefined {
    return this.link?.welcome?.nodeId;
  }

  get server(): string | undefined {
    return this.link?.welcome ? this.link.server : undefined;
  }

  get isConnected(): boolean {
    return this.link?.welcome !== undefined;
  }

  get knownServers(): readonly string[] {
    return this.servers.all;
  }

  /** Rooms joined, with the cursor a resume would start from. */
  get joinedRooms(): string[] {
    return this.cursors.names();
  }

  /**
   * Resolves once a node has welcomed this client. Rejects when every server was
   * tried once and none answered, or a node refused the hello for good (NICK_TAKEN…).
   */
  connect(): Promise<void> {
    if (this.isClosed) return Promise.reject(new ChatClientError('CLOSED', 'the client is closed'));
    if (this.isConnected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.firstConnect = { resolve, reject, failures: [] };
      if (!this.link && !this.retryTimer) this.dial();
    });
  }

  async join(room: string): Promise<{ members: Member[]; history: ChatMessage[] }> {
    // The cursor is set when the reply arrives (onJoined), before any live message.
    const reply = (await this.request((reqId) => ({ type: 'join', reqId, room }))) as ServerFrameOf<'joined'>;
    return { members: reply.members, history: reply.history };
  }

  async leave(room: string): Promise<void> {
    // Forget the room first, so a reconnect in between does not rejoin it.
    this.cursors.delete(room);
    await this.request((reqId) => ({ type: 'leave', reqId, room }));
  }

  /** Resolves on the node's ack, once, whichever node gives it. */
  async send(room: string, text: string): Promise<{ id: MessageId }> {
    const frame = { type: 'send' as const, room, text, clientMsgId: randomId() };
    const acked = this.outbox.add(frame);
    this.writeOutgoing(frame);
    return { id: await acked };
  }

  async dm(nick: string, text: string): Promise<{ id: MessageId }> {
    const frame = { type: 'dm' as const, to: nick, text, clientMsgId: randomId() };
    const acked = this.outbox.add(frame);
    this.writeOutgoing(frame);
    return { id: await acked };
  }

  async history(
    room: string,
    // `before`: usually the oldest message shown; any { hlc, origin, seq } will do.
    options: { before?: HistoryPosition; limit?: number } = {},
  ): Promise<{ messages: ChatMessage[]; hasMore: boolean }> {
    const reply = (await this.request((reqId) => ({
      type: 'history',
      reqId,
      room,
      limit: options.limit ?? 50,
      ...(options.before === undefined
        ? {}
        : { before: { hlc: options.before.hlc, origin: options.before.origin, seq: options.before.seq } }),
    }))) as ServerFrameOf<'history_reply'>;
    return { messages: reply.messages, hasMore: reply.hasMore };
  }

  async rooms(): Promise<RoomSummary[]> {
    const reply = (await this.request((reqId) => ({ type: 'rooms', reqId }))) as ServerFrameOf<'rooms_reply'>;
    return reply.rooms;
  }

  async who(room: string): Promise<Member[]> {
    const reply = (await this.request((reqId) => ({ type: 'who', reqId, room }))) as ServerFrameOf<'who_reply'>;
    return reply.members;
  }

  /**
   * Stops for good; unsettled calls reject with CLOSED. Says bye to the node, so the
   * cluster announces the leave at once instead of waiting for a resume.
   */
  async close(): Promise<void> {
    const link = this.link;
    if (this.isClosed) return;
    this.stop('closed by the application', { sayBye: true });
    if (link?.welcome) await link.closed;
  }

  private request(build: (reqId: number) => RequestFrame): Promise<ServerFrame> {
    if (this.isClosed) return Promise.reject(new ChatClientError('CLOSED', 'the client is closed'));
    const { frame, reply } = this.requests.create(build);
    this.write(frame);
    return reply;
  }

  private write(frame: object): void {
    if (this.link?.welcome) this.link.connection.write(encodeFrame(frame));
  }

  // Sends wait for the resume, so they follow the outbox and keep their order.
  private writeOutgoing(frame: object): void {
    if (this.link?.isResumed) this.link.connection.write(encodeFrame(frame));
  }

  private dial(): void {
    this.retryTimer = undefined;
    const server = this.servers.next();
    let markClosed = () => {};
    const closed = new Promise<void>((resolve) => {
      markClosed = resolve;
    });
    const link: Link = {
      server,
      connection: undefined as unknown as TransportConnection,
      decoder: new FrameDecoder(serverFrameSchemas),
      lastHeardAt: Date.now(),
      rejoins: new Set(),
      caughtUp: 0,
      isReplayingInbox: false,
      isResumed: false,
      closed,
      markClosed,
    };
    this.link = link;
    this.dialTimer = setTimeout(
      () => this.drop(link, 'no welcome within connect timeout'),
      this.options.connectTimeoutMs,
    );
    try {
      link.connection = this.options.transport.open(server, {
        onOpen: () => {
          // With an inbox cursor (from the second connection on) the node replays the
          // direct messages sent while the client was away before any live one.
          const inbox = this.inbox?.cursor;
          link.isReplayingInbox = inbox !== undefined;
          const token = this.token?.();
          link.connection.write(
            encodeFrame({
              type: 'hello',
              version: PROTOCOL_VERSION,
              nick: this.nick,
              clientId: this.clientId,
              ...(inbox === undefined ? {} : { inbox }),
              ...(token === undefined ? {} : { token }),
            }),
          );
        },
        onData: (chunk) => this.onData(link, chunk),
        onClose: (reason) => this.onLinkClosed(link, reason),
      });
    } catch (err) {
      queueMicrotask(() => this.onLinkClosed(link, (err as Error).message));
    }
  }

  private drop(link: Link, reason: string): void {
    link.closeReason ??= reason;
    link.connection?.close();
  }

  private onData(link: Link, chunk: Uint8Array): void {
    if (link !== this.link || this.isClosed) return;
    link.lastHeardAt = Date.now();
    const { frames, error } = link.decoder.push(chunk);
    for (const frame of frames) this.onFrame(link, frame);
    if (error) this.drop(link, `bad data from node: ${error.message}`);
  }

  private onFrame(link: Link, frame: ServerFrame): void {
    switch (frame.type) {
      case 'welcome':
        return this.onWelcome(link, frame);
      case 'message':
        return this.deliver(frame);
      case 'direct':
        return this.deliverDirect(link, frame);
      case 'inbox_replayed':
        return this.onInboxReplayed(link, frame);
      case 'servers':
        if (this.options.discoverServers) this.servers.learn(frame.servers);
        return;
      case 'presence': {
        const { type: _, ...presence } = frame;
        return this.emit('presence', presence);
      }
      case 'ack':
        return this.outbox.ack(frame.clientMsgId, frame.id);
      case 'joined':
        return this.onJoined(link, frame);
      case 'left':
      case 'history_reply':
      case 'rooms_reply':
      case 'who_reply':
        return this.requests.resolve(frame);
      case 'ping':
        return link.connection.write(encodeFrame({ type: 'pong', nonce: frame.nonce }));
      case 'pong':
        return;
      case 'error':
        return this.onErrorFrame(link, frame);
    }
  }

  private deliver(frame: ServerFrameOf<'message'>): void {
    const { type: _, ...message } = frame;
    if (this.cursors.has(message.room) && this.cursors.accept(message)) this.emit('message', message);
  }

  // The inbox cursor drops a direct message shown already: replayed and also delivered
  // live, or resent to another node under a new id.
  private deliverDirect(link: Link, frame: ServerFrameOf<'direct'>): void {
    const { type: _, ...direct } = frame;
    const { origin, seq } = direct.id;
    if (!this.inbox?.accept({ origin, seq, from: direct.from, clientMsgId: direct.clientMsgId })) return;
    if (link.isReplayingInbox) link.caughtUp++;
    this.emit('direct', direct);
  }

  private onInboxReplayed(link: Link, frame: ServerFrameOf<'inbox_replayed'>): void {
    const inbox = this.inbox;
    if (!inbox || !link.isReplayingInbox) return;
    inbox.advanceTo(frame.cursor);
    if (!frame.complete) {
      link.connection.write(encodeFrame({ type: 'inbox', cursor: inbox.cursor }));
      return;
    }
    link.isReplayingInbox = false;
    this.finishResume(link);
  }

  private onErrorFrame(link: Link, frame: ServerFrameOf<'error'>): void {
    const error = new ChatClientError(frame.code, frame.message);
    if (frame.fatal) {
      link.closeReason = `${frame.code}: ${frame.message}`;
      // An expired token stays expired, unless the application hands out fresh ones.
      const isFinal = FINAL_CODES.has(frame.code) || (frame.code === 'TOKEN_EXPIRED' && this.isTokenFixed);
      if (isFinal) link.finalError = error;
    }
    if (frame.clientMsgId !== undefined && this.outbox.fail(frame.clientMsgId, error)) return;
    if (frame.reqId !== undefined && this.requests.reject(frame.reqId, error)) return;
    if (!frame.fatal) this.emit('error', error);
  }

  private onWelcome(link: Link, welcome: ServerFrameOf<'welcome'>): void {
    clearTimeout(this.dialTimer);
    link.welcome = welcome;
    this.welcomedAs = { clientId: welcome.clientId, nick: welcome.nick };
    this.attempt = 0;
    // A client's first session starts from the inbox as it is: older DMs are not replayed.
    this.inbox ??= new SeenPosition(welcome.inbox);
    if (this.options.discoverServers) this.servers.learn(welcome.servers);
    this.startKeepalive(link);
    this.firstConnect?.resolve();
    this.firstConnect = undefined;
    this.resume(link);
  }

  /**
   * Rejoins every room from its cursor, resends pending requests, and once every room
   * has caught up, resends unacked messages in their original order.
   */
  private resume(link: Link): void {
    for (const room of this.cursors.names()) this.rejoin(link, room, this.cursors.cursor(room) ?? {});
    for (const frame of this.requests.frames()) {
      if (frame.type === 'join' && link.rejoins.has(frame.reqId)) continue;
      if (frame.type === 'leave') {
        // The room was not rejoined, so the leave is already in effect on this node.
        this.requests.resolve({ type: 'left', reqId: frame.reqId, room: frame.room });
        continue;
      }
      link.connection.write(encodeFrame(frame));
    }
    this.finishResume(link);
  }

  private rejoin(link: Link, room: string, cursor: Cursor): void {
    const { frame, reply } = this.requests.create((reqId) => ({ type: 'join', reqId, room, cursor }));
    link.rejoins.add(frame.reqId);
    reply.catch((error: ChatClientError) => {
      if (!link.rejoins.delete(frame.reqId) || link !== this.link) return;
      this.emit('error', new ChatClientError(error.code, `rejoining ${room} failed: ${error.message}`));
      this.finishResume(link);
    });
    link.connection.write(encodeFrame(frame));
  }

  /**
   * A join reply moves the room's cursor before any later frame is handled: frames of
   * one chunk are handled synchronously, and a live message right behind the reply
   * must be judged against the new cursor. A rejoin's history is what was missed; an
   * incomplete one is followed by the next page.
   */
  private onJoined(link: Link, joined: ServerFrameOf<'joined'>): void {
    const isRejoin = link.rejoins.delete(joined.reqId);
    const isWanted = !isRejoin || this.cursors.has(joined.room);
    if (isWanted) {
      for (const message of joined.history) {
        if (this.cursors.accept(message) && isRejoin) {
          link.caughtUp++;
          this.emit('message', message);
        }
      }
      this.cursors.advanceTo(joined.room, joined.cursor);
    }
    if (isWanted && !joined.complete && link === this.link) {
      this.rejoin(link, joined.room, this.cursors.cursor(joined.room) ?? {});
    }
    this.requests.resolve(joined);
    if (isRejoin) this.finishResume(link);
  }

  private finishResume(link: Link): void {
    if (link.rejoins.size > 0 || link.isReplayingInbox) return;
    if (link !== this.link || !link.welcome || link.isResumed) return;
    link.isResumed = true;
    // Only now is the client back in every room, so resent messages cannot meet NOT_IN_ROOM.
    for (const frame of this.outbox.frames()) link.connection.write(encodeFrame(frame));
    const lost = this.lost;
    this.lost = undefined;
    this.emit('connected', {
      nodeId: link.welcome.nodeId,
      server: link.server,
      sessionId: link.welcome.sessionId,
      caughtUp: link.caughtUp,
      ...(lost === undefined
        ? {}
        : {
            failoverMs: Date.now() - lost.at,
            lost: { nodeId: lost.nodeId, server: lost.server, reason: lost.reason },
          }),
    });
  }

  /**
   * Pings every pingMs (at most every third of the node's idle timeout), and checks the
   * silence SILENCE_CHECKS_PER_TIMEOUT times per pingTimeoutMs on the same timer, so a
   * hung node is left within pingTimeoutMs and a check interval of its last frame,
   * however seldom the client pings.
   */
  private startKeepalive(link: Link): void {
    clearInterval(this.keepaliveTimer);
    const pingEveryMs = Math.min(this.options.pingMs, Math.floor((link.welcome?.limits.idleTimeoutMs ?? Infinity) / 3));
    const checksPerPing = Math.max(
      1,
      Math.ceil((pingEveryMs * SILENCE_CHECKS_PER_TIMEOUT) / this.options.pingTimeoutMs),
    );
    const checkEveryMs = Math.max(1, Math.floor(pingEveryMs / checksPerPing));
    let checks = 0;
    this.keepaliveTimer = setInterval(() => {
      if (Date.now() - link.lastHeardAt > this.options.pingTimeoutMs) {
        this.drop(link, `no answer within ${this.options.pingTimeoutMs} ms`);
        return;
      }
      if (++checks % checksPerPing === 0) link.connection.write(encodeFrame({ type: 'ping', nonce: ++this.pingNonce }));
    }, checkEveryMs);
  }

  private onLinkClosed(link: Link, transportReason: string): void {
    link.markClosed();
    if (link !== this.link) return;
    this.link = undefined;
    clearTimeout(this.dialTimer);
    clearInterval(this.keepaliveTimer);
    const reason = link.closeReason ?? transportReason;
    for (const reqId of link.rejoins) {
      this.requests.reject(reqId, new ChatClientError('CLOSED', `connection lost during resume: ${reason}`));
    }
    link.rejoins.clear();
    if (link.welcome) {
      const lost = { nodeId: link.welcome.nodeId, server: link.server, reason };
      this.lost = { ...lost, at: Date.now() };
      this.emit('disconnected', lost);
    }
    if (this.isClosed) return;
    if (link.finalError) {
      this.firstConnect?.reject(link.finalError);
      this.firstConnect = undefined;
      this.emit('error', link.finalError);
      this.stop(link.finalError.message);
      return;
    }
    if (this.firstConnect) {
      this.firstConnect.failures.push(`${link.server}: ${reason}`);
      if (this.firstConnect.failures.length >= this.servers.size) {
        const error = new ChatClientError(
          'CONNECT_FAILED',
          `no server answered: ${this.firstConnect.failures.join('; ')}`,
        );
        this.firstConnect.reject(error);
        this.firstConnect = undefined;
        this.attempt = 0;
        return;
      }
    }
    const delayMs = backoffDelay(this.attempt++, this.options.backoff, this.options.random);
    this.emit('reconnecting', { attempt: this.attempt, delayMs, server: this.servers.peek(), reason });
    this.retryTimer = setTimeout(() => this.dial(), delayMs);
  }

  private stop(reason: string, { sayBye = false } = {}): void {
    if (this.isClosed) return;
    this.isClosed = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.dialTimer);
    clearInterval(this.keepaliveTimer);
    const link = this.link;
    if (link?.welcome && sayBye) {
      link.closeReason ??= reason;
      link.connection.write(encodeFrame({ type: 'bye' }));
      const timer = setTimeout(() => link.connection.close(), BYE_TIMEOUT_MS);
      void link.closed.then(() => clearTimeout(timer));
    } else if (link) {
      this.drop(link, reason);
    }
    const error = new ChatClientError('CLOSED', `the client is closed: ${reason}`);
    this.outbox.failAll(error);
    this.requests.rejectAll(error);
    this.firstConnect?.reject(error);
    this.firstConnect = undefined;
    this.emit('closed', { reason });
  }
}
