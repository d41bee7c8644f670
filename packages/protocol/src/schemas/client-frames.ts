import { z } from 'zod';
import { MAX_HISTORY_LIMIT, MAX_TOKEN_LENGTH } from '../constants.js';
import { ClientId, ClientMsgId, Cursor, HistoryPosition, Nick, RequestId, RoomName, Text } from './common.js';

// Frames a client sends to a node. Requests that expect a reply carry a reqId that
// the reply echoes; sends are correlated by their clientMsgId instead, because that
// id survives a resend.

export const HelloFrame = z.object({
  type: z.literal('hello'),
  version: z.number().int(),
  nick: Nick,
  clientId: ClientId,
  // On a reconnect: the client's inbox cursor (origin -> last seq of the direct messages
  // it has shown). The node then replays what the cursor has not seen before any live
  // direct message, in pages pulled with `inbox`. Absent: direct messages flow live at once.
  inbox: Cursor.optional(),
  // A signed JWT naming the user (docs/protocol.md "Authentication"): required by a node
  // with auth.required, which then takes the session's clientId and nick from it.
  token: z.string().min(1).max(MAX_TOKEN_LENGTH).optional(),
});

export const JoinFrame = z.object({
  type: z.literal('join'),
  reqId: RequestId,
  room: RoomName,
  // With a cursor the node replays what the client missed instead of recent history.
  cursor: Cursor.optional(),
});

export const LeaveFrame = z.object({ type: z.literal('leave'), reqId: RequestId, room: RoomName });

export const SendFrame = z.object({
  type: z.literal('send'),
  room: RoomName,
  text: Text,
  clientMsgId: ClientMsgId,
});

export const DmFrame = z.object({
  type: z.literal('dm'),
  to: Nick,
  text: Text,
  clientMsgId: ClientMsgId,
});

// The next page of an inbox replay, after `inbox_replayed` said more remain.
export const InboxFrame = z.object({ type: z.literal('inbox'), cursor: Cursor });

// The client is leaving for good: its leaves are announced at once, not held for a resume.
export const ByeFrame = z.object({ type: z.literal('bye') });

export const HistoryFrame = z.object({
  type: z.literal('history'),
  reqId: RequestId,
  room: RoomName,
  // Only messages strictly before this position (usually the oldest message shown);
  // omitted means "the newest".
  before: HistoryPosition.optional(),
  limit: z.number().int().min(1).max(MAX_HISTORY_LIMIT),
});

export const RoomsFrame = z.object({ type: z.literal('rooms'), reqId: RequestId });

export const WhoFrame = z.object({ type: z.literal('who'), reqId: RequestId, room: RoomName });

export const PingFrame = z.object({ type: z.literal('ping'), nonce: z.number().int() });

export const PongFrame = z.object({ type: z.literal('pong'), nonce: z.number().int() });

export const clientFrameSchemas = {
  hello: HelloFrame,
  join: JoinFrame,
  leave: LeaveFrame,
  send: SendFrame,
  dm: DmFrame,
  inbox: InboxFrame,
  bye: ByeFrame,
  history: HistoryFrame,
  rooms: RoomsFrame,
  who: WhoFrame,
  ping: PingFrame,
  pong: PongFrame,
} as const;

// The decoder picks the schema by `type` from the map, so the union type is derived
// from it rather than listed a second time.
export type ClientFrame = z.infer<(typeof clientFrameSchemas)[keyof typeof clientFrameSchemas]>;
export type ClientFrameOf<T extends ClientFrame['type']> = Extract<ClientFrame, { type: T }>;
