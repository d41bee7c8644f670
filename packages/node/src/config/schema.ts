import { MAX_NAME_LENGTH } from '@meshchat/protocol';
import { z } from 'zod';
import {
  DEFAULT_ACK_REPLICAS,
  DEFAULT_ANTI_ENTROPY_MS,
  DEFAULT_DEAD_AFTER_MS,
  DEFAULT_FORGET_DEAD_AFTER_MS,
  DEFAULT_GROUP_COMMIT_MS,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_HISTORY_ON_JOIN,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_MESSAGE_LENGTH,
  DEFAULT_MAX_NICK_LENGTH,
  DEFAULT_MAX_OUTBOUND_BYTES,
  DEFAULT_MAX_ROOM_NAME_LENGTH,
  DEFAULT_MAX_ROOMS_PER_CLIENT,
  DEFAULT_RATE_BURST,
  DEFAULT_RATE_PER_SEC,
  DEFAULT_RESUME_GRACE_MS,
  DEFAULT_RETENTION_SWEEP_MS,
  DEFAULT_SUSPECT_AFTER_MS,
  DEFAULT_TOKEN_CLOCK_TOLERANCE_S,
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
  maxConnections: PositiveInt.default(DEFAULT_MAX_CONNECTIONS),
  maxConnectionsPerAddress: PositiveInt.default(DEFAULT_MAX_CONNECTIONS_PER_ADDRESS),
  handshakeTimeoutMs: PositiveInt.default(DEFAULT_HANDSHAKE_TIMEOUT_MS),
  maxRoomsPerClient: PositiveInt.default(DEFAULT_MAX_ROOMS_PER_CLIENT),
  // The wire allows names up to MAX_NAME_LENGTH (128); a node may ask for less.
  maxNickLength: z.int().min(1).max(MAX_NAME_LENGTH).default(DEFAULT_MAX_NICK_LENGTH),
  maxRoomNameLength: z.int().min(1).max(MAX_NAME_LENGTH).default(DEFAULT_MAX_ROOM_NAME_LENGTH),
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

// Client authentication (docs/protocol.md "Authentication"): with `required`, every
// hello carries a JWT signed with the HS256 secret or the Ed25519 key's private half.
export const AuthConfig = z
  .strictObject({
    required: z.boolean().default(false),
    // HS256 needs a key as long as its hash (RFC 7518 3.2): 32 bytes.
    hs256Secret: z.string().min(32, { error: 'expected at least 32 characters' }).optional(),
    // An Ed25519 public key in PEM (SPKI), inline or the path of a file holding it.
    ed25519PublicKey: z.string().min(1).optional(),
    issuer: z.string().min(1).optional(),
    audience: z.string().min(1).optional(),
    // Clocks of token issuer and node may differ this much when expiry is checked.
    clockToleranceSec: z.int().min(0).max(300).default(DEFAULT_TOKEN_CLOCK_TOLERANCE_S),
  })
  .superRefine((auth, ctx) => {
    if (auth.required && auth.hs256Secret === undefined && auth.ed25519PublicKey === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['hs256Secret'],
        message: 'auth.required needs hs256Secret or ed25519PublicKey to check tokens with',
        input: undefined,
      });
    }
  });
export type AuthConfig = z.infer<typeof AuthConfig>;

// TLS on the listeners (README "TLS", docs/operations.md): one certificate for the node,
// and the cluster CA that peers' certificates must chain to. Peers use mutual TLS, on
// top of the cluster-secret handshake; clients and HTTP use server-side TLS.
export const TlsConfig = z.strictObject({
  // PEM files: this node's certificate (its chain may follow), its private key, and the
  // CA that signed the cluster's certificates.
  cert: z.string().min(1),
  key: z.string().min(1),
  ca: z.string().min(1),
  // Which listeners speak TLS. Every node of a cluster must agree on `peers`.
  clients: z.boolean().default(true),
  peers: z.boolean().default(true),
  http: z.boolean().default(true),
});
export type TlsConfig = z.infer<typeof TlsConfig>;

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
  auth: AuthConfig.default(AuthConfig.parse({})),
  tls: TlsConfig.optional(),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  // A client gone without a goodbye stays present, and can be sent direct messages,
  // this long: one that fails over and resumes within it shows no leave or join.
  resumeGraceMs: z.int().min(0).max(600_000).default(DEFAULT_RESUME_GRACE_MS),
});

/** A validated node configuration, with every default filled in. */
export type NodeConfig = z.infer<typeof NodeConfig>;
/** What a config file or a caller may give: defaults may be left out. */
export type NodeConfigInput = z.input<typeof NodeConfig>;
