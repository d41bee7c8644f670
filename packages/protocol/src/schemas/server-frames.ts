import { z } from 'zod';
import { PingFrame, PongFrame } from './client-frames.js';
import {
  ChatMessage,
  ClientId,
  ClientMsgId,
  Cursor,
  EpochMs,
  HlcValue,
  Member,
  MessageId,
  Nick,
  NodeId,
  RequestId,
  RoomName,
  RoomSummary,
  Sender,
  Text,
} from './common.js';

// Frames a node sends to a client.

export const WelcomeFrame = z.object({
  type: z.literal('welcome'),
  version: z.number().int(),
  nodeId: NodeId,
  sessionId: z.string().min(1),
  clientId: ClientId,
  nick: Nick,
  // Client addresses ("host:port") of the cluster's nodes, for failover.
  servers: z.array(z.string()),
  // The client's inbox position on this node as the session started: a client with no
  // inbox cursor yet starts from it, so a later resume replays only what came after.
  inbox: Cursor,
  // The node's limits, so a client can check input before sending it.
  limits: z.object({
    maxMessageLength: z.number().int().min(1),
    // A client silent this long is dropped; ping well within it.
    idleTimeoutMs: z.number().int().min(1),
  }),
});

export const JoinedFrame = z.object({
  type: z.literal('joined'),
  reqId: RequestId,
  room: RoomName,
  members: z.array(Member),
  // Without a cursor: recent history, oldest first. With one: the messages the cursor
  // had not seen, in hlc order, as many as fit one reply.
  history: z.array(ChatMessage),
  // The client's cursor from here on: the room's position when the join completed, or,
  // for an incomplete catch-up, how far this page went.
  cursor: Cursor,
  // False when more missed messages remain: the session is not in the room yet and the
  // client joins again with the new cursor. Pulling pages bounds what a long absence
  // can make the node buffer for one client.
  complete: z.boolean(),
});

export const LeftFrame = z.object({ type: z.literal('left'), reqId: RequestId, room: RoomName });

export const AckFrame = z.object({ type: z.literal('ack'), clientMsgId: ClientMsgId, id: MessageId });

export const MessageFrame = ChatMessage.extend({ type: z.literal('message') });

// A direct message delivered to its recipient, live or replayed after a reconnect.
// `id` lives in the recipient's private inbox room; the recipient's inbox cursor is
// built from these ids.
export const DirectFrame = z.object({
  type: z.literal('direct'),
  id: MessageId,
  hlc: HlcValue,
  from: Sender,
  to: Nick,
  text: Text,
  clientMsgId: ClientMsgId,
  sentAt: EpochMs,
});

// Ends one page of an inbox replay (the `direct` frames before it). `cursor`: how far
// the replay went. While `complete` is false the node holds live direct messages back
// and the client pulls the next page with `inbox`; the page that completes the replay
// lets them flow in the same step, so none falls between replay and live delivery.
export const InboxReplayedFrame = z.object({
  type: z.literal('inbox_replayed'),
  cursor: Cursor,
  complete: z.boolean(),
});

// The client addresses of the cluster's live nodes changed (a node joined or died):
// the same list as in welcome, pushed so failover reaches nodes added since.
export const ServersFrame = z.object({ type: z.literal('servers'), servers: z.array(z.string()) });

export const HistoryReplyFrame = z.object({
  type: z.literal('history_reply'),
  reqId: RequestId,
  room: RoomName,
  messages: z.array(ChatMessage),
  // True when older messages exist before the first one returned.
  hasMore: z.boolean(),
});

export const RoomsReplyFrame = z.object({
  type: z.literal('rooms_reply'),
  reqId: RequestId,
  rooms: z.array(RoomSummary),
});

export const WhoReplyFrame = z.object({
  type: z.literal('who_reply'),
  reqId: RequestId,
  room: RoomName,
  members: z.array(Member),
});

export const PresenceFrame = z.object({
  type: z.literal('presence'),
  room: RoomName,
  event: z.enum(['joined', 'left']),
  member: Member,
});

export const ErrorFrame = z.object({
  type: z.literal('error'),
  code: z.string().min(1),
  message: z.string(),
  // Which request failed, when the error answers one.
  reqId: RequestId.optional(),
  clientMsgId: ClientMsgId.optional(),
  // The node closes the connection after a fatal error.
  fatal: z.boolean(),
});

export const serverFrameSchemas = {
  welcome: WelcomeFrame,
  joined: JoinedFrame,
  left: LeftFrame,
  ack: AckFrame,
  message: MessageFrame,
  direct: DirectFrame,
  inbox_replayed: InboxReplayedFrame,
  servers: ServersFrame,
  history_reply: HistoryReplyFrame,
  rooms_reply: RoomsReplyFrame,
  who_reply: WhoReplyFrame,
  presence: PresenceFrame,
  error: ErrorFrame,
  ping: PingFrame,
  pong: PongFrame,
} as const;

// The decoder picks the schema by `type` from the map, so the union type is derived
// from it rather than listed a second time.
export type ServerFrame = z.infer<(typeof serverFrameSchemas)[keyof typeof serverFrameSchemas]>;
export type ServerFrameOf<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>;
