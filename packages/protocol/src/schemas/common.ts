import { z } from 'zod';
import { MAX_ID_LENGTH, MAX_NAME_LENGTH, MAX_TEXT_LENGTH } from '../constants.js';

const boundedString = (max: number) => z.string().min(1).max(max);

export const ClientId = boundedString(MAX_ID_LENGTH);
export const ClientMsgId = boundedString(MAX_ID_LENGTH);
export const NodeId = boundedString(MAX_ID_LENGTH);
export const Nick = boundedString(MAX_NAME_LENGTH);
export const RoomName = boundedString(MAX_NAME_LENGTH);
export const Text = z.string().max(MAX_TEXT_LENGTH);
export const Seq = z.number().int().min(1);
export const RequestId = z.number().int().min(0);
// A hybrid logical clock value packed into one number (see hlc.ts).
export const HlcValue = z.number().int().min(0);
export const EpochMs = z.number().int().min(0);

// (room, origin, seq): origin is the node that first accepted the message and seq
// counts that node's messages in that room from 1 without gaps (design.md).
export const MessageId = z.object({ room: RoomName, origin: NodeId, seq: Seq });
export type MessageId = z.infer<typeof MessageId>;

/**
 * A place in a room's history order: by hlc, then origin, then seq. Two origins can
 * issue the same hlc, so paging by hlc alone could skip a message at a page boundary.
 */
export const HistoryPosition = z.object({
  hlc: HlcValue,
  origin: z.string().max(MAX_ID_LENGTH),
  seq: z.number().int().min(0),
});
export type HistoryPosition = z.infer<typeof HistoryPosition>;

export const Sender = z.object({ clientId: ClientId, nick: Nick });
export type Sender = z.infer<typeof Sender>;

export const ChatMessage = z.object({
  room: RoomName,
  origin: NodeId,
  seq: Seq,
  hlc: HlcValue,
  from: Sender,
  text: Text,
  clientMsgId: ClientMsgId,
  sentAt: EpochMs,
});
export type ChatMessage = z.infer<typeof ChatMessage>;

// A client's position in a room: origin -> last seq it has seen. Node-independent,
// so a client can resume on any node with it.
export const Cursor = z.record(NodeId, z.number().int().min(0));
export type Cursor = z.infer<typeof Cursor>;

export const Member = z.object({ clientId: ClientId, nick: Nick, nodeId: NodeId });
export type Member = z.infer<typeof Member>;

export const RoomSummary = z.object({ name: RoomName, members: z.number().int().min(0) });
export type RoomSummary = z.infer<typeof RoomSummary>;
