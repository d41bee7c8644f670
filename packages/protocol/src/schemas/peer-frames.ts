import { z } from 'zod';
import { ChatMessage, ClientId, Nick, NodeId, RoomName } from './common.js';
import { MessageFrame } from './server-frames.js';

// Frames between nodes on the peer port. docs/architecture.md explains the handshake,
// membership and anti-entropy that use them.

const Hex = z.string().regex(/^[0-9a-f]{64}$/, { error: 'expected 64 lowercase hex digits' });
const Address = z.string().max(300);
const Counter = z.number().int().min(0);
const VersionVector = z.record(NodeId, Counter);

export const MemberStateName = z.enum(['alive', 'suspect', 'dead']);
export type MemberStateName = z.infer<typeof MemberStateName>;

/** What a node knows of one member; gossiped and merged by incarnation (SWIM). */
export const MemberState = z.object({
  nodeId: NodeId,
  peerAddress: Address,
  clientAddress: Address,
  httpAddress: Address,
  incarnation: Counter,
  state: MemberStateName,
  // The member's own heartbeat count, for operators: it shows the member is ticking.
  heartbeat: Counter,
});
export type MemberState = z.infer<typeof MemberState>;

// Handshake, in both directions at once: hello with a fresh nonce, then auth with
// HMAC-SHA256(clusterSecret, the other side's nonce and both ids).
export const PeerHelloFrame = z.object({
  type: z.literal('peer_hello'),
  version: z.number().int(),
  cluster: z.string().min(1).max(128),
  nodeId: NodeId,
  incarnation: Counter,
  peerAddress: Address,
  clientAddress: Address,
  httpAddress: Address,
  nonce: Hex,
});

export const PeerAuthFrame = z.object({ type: z.literal('peer_auth'), proof: Hex });

export const PeerErrorFrame = z.object({
  type: z.literal('peer_error'),
  code: z.string().min(1),
  message: z.string(),
});

export const HeartbeatFrame = z.object({
  type: z.literal('heartbeat'),
  heartbeat: Counter,
  // Recent membership changes, piggybacked (retransmitted a few rounds each).
  updates: z.array(MemberState),
});

/** Full membership state, sent on connect and periodically. */
export const MembershipFrame = z.object({ type: z.literal('membership'), members: z.array(MemberState) });

// Indirect probe (SWIM): "ask `target` whether it is alive, on my behalf".
export const PingReqFrame = z.object({ type: z.literal('ping_req'), nonce: Counter, target: NodeId });
export const PingAckFrame = z.object({
  type: z.literal('ping_ack'),
  nonce: Counter,
  target: NodeId,
  isAlive: z.boolean(),
});
export const ProbeFrame = z.object({ type: z.literal('probe'), nonce: Counter });
export const ProbeAckFrame = z.object({ type: z.literal('probe_ack'), nonce: Counter });

// A node's presence (its sessions and their rooms) is versioned by its owner: epoch is
// the owner's start time, version counts its changes since. (epoch, version) orders
// copies, so a copy forwarded by a third node never overwrites a newer one.
export const PresenceVersion = z.object({ epoch: Counter, version: Counter });
export type PresenceVersion = z.infer<typeof PresenceVersion>;

/** Anti-entropy: "this is what I hold", per room; the other side sends what is missing. */
export const SyncVectorsFrame = z.object({
  type: z.literal('sync_vectors'),
  rooms: z.record(RoomName, VersionVector),
  // The presence versions this node holds, per owner node, itself included.
  presence: z.record(NodeId, PresenceVersion),
  // True on the answer to a round the other side opened, so rounds do not ping-pong.
  isReply: z.boolean(),
});

/**
 * Missing messages, per (room, origin) in seq order. `floors` come first: "up to this
 * seq, (room, origin) was trimmed by retention here and will not come".
 */
export const SyncBatchFrame = z.object({
  type: z.literal('sync_batch'),
  floors: z.array(z.object({ room: RoomName, origin: NodeId, seq: Counter })),
  messages: z.array(ChatMessage),
});

/**
 * "I have committed (room, origin) up to seq, contiguously": sent to the origin after
 * each commit of messages it relayed, coalesced per event-loop turn. Cumulative, so a
 * lost or repeated one does no harm. The origin acks its client once enough peers hold
 * the message (config ackReplicas).
 */
export const StoredFrame = z.object({
  type: z.literal('stored'),
  acks: z.array(z.object({ room: RoomName, origin: NodeId, seq: Counter })),
});

/**
 * One node's sessions and their rooms: sent by the owner when a link comes up, and by
 * any node in anti-entropy to a peer holding an older version.
 */
export const PresenceSnapshotFrame = z.object({
  type: z.literal('presence_snapshot'),
  nodeId: NodeId,
  epoch: Counter,
  version: Counter,
  sessions: z.array(z.object({ clientId: ClientId, nick: Nick, rooms: z.array(RoomName) })),
  /**
   * Owner-sent snapshots only: the clients the owner shows in their resume grace (gone
   * without a goodbye, from any node), with the grace left. A node that (re)started
   * while their node failed heard of them from no one else, and must still accept a
   * direct message to one that is failing over.
   */
  departed: z
    .array(z.object({ clientId: ClientId, nick: Nick, nodeId: NodeId, rooms: z.array(RoomName), graceLeftMs: Counter }))
    .optional(),
});

/** One change to the sending node's local sessions, with the version it makes. */
export const PresenceDeltaFrame = z.object({
  type: z.literal('presence_delta'),
  epoch: Counter,
  version: Counter,
  event: z.enum(['online', 'offline', 'joined', 'left']),
  clientId: ClientId,
  nick: Nick,
  // Set for joined and left.
  room: RoomName.optional(),
});

export const peerFrameSchemas = {
  peer_hello: PeerHelloFrame,
  peer_auth: PeerAuthFrame,
  peer_error: PeerErrorFrame,
  heartbeat: HeartbeatFrame,
  membership: MembershipFrame,
  ping_req: PingReqFrame,
  ping_ack: PingAckFrame,
  probe: ProbeFrame,
  probe_ack: ProbeAckFrame,
  // A relayed chat message uses the client frame, so one encoding serves clients and peers.
  message: MessageFrame,
  sync_vectors: SyncVectorsFrame,
  sync_batch: SyncBatchFrame,
  stored: StoredFrame,
  presence_snapshot: PresenceSnapshotFrame,
  presence_delta: PresenceDeltaFrame,
} as const;

// The decoder picks the schema by `type` from the map, so the union type is derived
// from it rather than listed a second time.
export type PeerFrame = z.infer<(typeof peerFrameSchemas)[keyof typeof peerFrameSchemas]>;
export type PeerFrameOf<T extends PeerFrame['type']> = Extract<PeerFrame, { type: T }>;
