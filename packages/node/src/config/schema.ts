import { z } from 'zod';
import {
  DEFAULT_ACK_REPLICAS,
  DEFAULT_ANTI_ENTROPY_MS,
  DEFAULT_DEAD_AFTER_MS,
  DEFAULT_FORGET_DEAD_AFTER_MS,
  DEFAULT_GROUP_COMMIT_MS,
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_HISTORY_ON_JOIN,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_MESSAGE_LENGTH,
  DEFAULT_MAX_OUTBOUND_BYTES,
  DEFAULT_RATE_BURST,
  DEFAULT_RATE_PER_SEC,
  DEFAULT_RESUME_GRACE_MS,
  DEFAULT_RETENTION_SWEEP_MS,
  DEFAULT_SUSPECT_AFTER_MS,
} from '../constants.js';

const Port = z.int({ error: 'expected an integer 0..65535 (0 picks a free port)' }).min(0).max(65535);
const PositiveInt = z.int({ error: 'expected a positive integer' }).min(1);
const HostPort = z.string().regex(/^[^\s:]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/, { error: 'expected "host:port"' });

export const LimitsConfig = z.strictObject({
  maxFrameBytes: PositiveInt.default(DEFAULT_MAX_FRAME_BYTES),
  maxMessageLength: PositiveInt.default(DEFAULT_MAX_MESSAGE_LENGTH),
  ratePerSec: PositiveInt.default(DEFAULT_RATE_PER_SEC),
  rateBurst: PositiveInt.default(DEFAULT_RATE_BURST),
  maxOutboundBytes: PositiveInt.default(DEFAULT_MAX_OUTBOUND_BYTES),
  idleTimeoutMs: PositiveInt.default(DEFAULT_IDLE_TIMEOUT_MS),
});

export const HeartbeatConfig = z.strictObject({
  heartbeatMs: PositiveInt.default(DEFAULT_HEARTBEAT_MS),
  suspectAfterMs: PositiveInt.default(DEFAULT_SUSPECT_AFTER_MS),
  deadAfterMs: PositiveInt.default(DEFAULT_DEAD_AFTER_MS),
  forgetDeadAfterMs: PositiveInt.default(DEFAULT_FORGET_DEAD_AFTER_MS),
});

const RetentionPolicy = z.strictObject({
  maxMessages: PositiveInt.optional(),
  maxAgeMs: PositiveInt.optional(),
});

export const RetentionConfig = RetentionPolicy.extend({
  // Per-room policies, laid over the defaults above.
  rooms: z.record(z.string(), RetentionPolicy).default({}),
  sweepMs: PositiveInt.default(DEFAULT_RETENTION_SWEEP_MS),
});
export type RetentionConfig = z.infer<typeof RetentionConfig>;

export const NodeConfig = z.strictObject({
  nodeId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, {
    error: 'expected 1-64 letters, digits, "_", "." or "-", starting with a letter or digit',
  }),
  cluster: z.string().min(1).default('meshchat'),
  // Address the listeners bind to.
  host: z.string().min(1).default('127.0.0.1'),
  // Host other nodes and clients use to reach this one; defaults to `host` (or
  // 127.0.0.1 when binding every interface). Set it when nodes run on several hosts.
  advertiseHost: z.string().min(1).optional(),
  clientPort: Port,
  peerPort: Port,
  httpPort: Port,
  dataDir: z.string().min(1),
  // The web client's files, served on httpPort; the @meshchat/web build of this
  // install (packages/web/dist) when not given.
  webRoot: z.string().min(1).optional(),
  // lmdb keeps history on disk under dataDir; memory keeps nothing across restarts
  // (for tests and throwaway nodes).
  store: z.enum(['lmdb', 'memory']).default('lmdb'),
  // lmdb: commits at most every groupCommitMs, each fsync'd before anything it holds is
  // acked or relayed. 0 commits as soon as the previous commit is done.
  groupCommitMs: z.int().min(0).max(100).default(DEFAULT_GROUP_COMMIT_MS),
  seeds: z.array(HostPort).default([]),
  clusterSecret: z.string().min(16, { error: 'expected at least 16 characters' }),
  historyOnJoin: z.int().min(0).max(1000).default(DEFAULT_HISTORY_ON_JOIN),
  antiEntropyMs: PositiveInt.default(DEFAULT_ANTI_ENTROPY_MS),
  // An ack waits for the message to be committed on min(ackReplicas - 1, reachable
  // peers) peers besides this node (design.md guarantee 1).
  ackReplicas: z.int().min(1).max(16).default(DEFAULT_ACK_REPLICAS),
  // Keep everything unless limits are given; every node must have the same policy.
  retention: RetentionConfig.default(RetentionConfig.parse({})),
  limits: LimitsConfig.default(LimitsConfig.parse({})),
  heartbeat: HeartbeatConfig.default(HeartbeatConfig.parse({})),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  // A client gone without a goodbye stays present, and can be sent direct messages,
  // this long: one that fails over and resumes within it shows no leave or join.
  resumeGraceMs: z.int().min(0).max(600_000).default(DEFAULT_RESUME_GRACE_MS),
});

/** A validated node configuration, with every default filled in. */
export type NodeConfig = z.infer<typeof NodeConfig>;
/** What a config file or a caller may give: defaults may be left out. */
export type NodeConfigInput = z.input<typeof NodeConfig>;
