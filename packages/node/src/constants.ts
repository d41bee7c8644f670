// Defaults for every tunable of a node, each with the reason for its value. The config
// schema (config/schema.ts) takes its defaults from here; docs in README.md "Config".

// Chat frames are small; 64 KiB holds the longest allowed message many times over
// while bounding what a client can make the node buffer before it is rejected.
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024;

// About a page of text: long enough for pasted code, short enough to render.
export const DEFAULT_MAX_MESSAGE_LENGTH = 4000;

// Per-client token bucket over every frame after hello but ping and pong (a client
// must be able to prove it is alive while it is throttled). Generous for people and bots;
// a flood beyond it gets RATE_LIMITED errors instead of taking the node's CPU.
export const DEFAULT_RATE_PER_SEC = 200;
export const DEFAULT_RATE_BURST = 400;

// A client that cannot take 1 MiB of backlog is too slow to keep: holding more per
// connection would let a few stalled readers exhaust the node's memory.
export const DEFAULT_MAX_OUTBOUND_BYTES = 1024 * 1024;

// Clients ping every few seconds (ChatClient pingMs); three missed pings mean gone.
export const DEFAULT_IDLE_TIMEOUT_MS = 15_000;

// Recent messages a join returns, like IRC bouncers' playback and Matrix's initial sync.
export const DEFAULT_HISTORY_ON_JOIN = 50;

// Nick and room syntax and default lengths: shared with clients (@meshchat/protocol).
export {
  DEFAULT_MAX_NICK_LENGTH,
  DEFAULT_MAX_ROOM_NAME_LENGTH,
  NICK_PATTERN,
  ROOM_PATTERN,
} from '@meshchat/protocol';

// Rooms one session may be in at once: every room joined costs a membership entry here
// and presence traffic on every node, so one client cannot make the cluster track
// thousands. People use a handful; bots that bridge many rooms can be given more.
export const DEFAULT_MAX_ROOMS_PER_CLIENT = 100;

// Client connections one node holds at once: past this a new connection gets
// TOO_MANY_CONNECTIONS and clients fail over to another node. An idle client costs ~7 KiB
// (docs/benchmarks.md) but an active one holds up to maxOutboundBytes of backlog: 10,000
// bounds a node's memory and file descriptors while leaving room for a busy server.
export const DEFAULT_MAX_CONNECTIONS = 10_000;
// Connections from one remote address: one host (or a script gone wrong) cannot take
// every slot of the node, while an office or a campus behind one NAT address still fits.
export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 1000;

// A connection must finish its hello (and TLS handshake) within this: a slowloris that
// opens sockets and never speaks holds a slot for 5 s, not for the idle timeout.
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 5000;

// Upper bound on the messages in one joined or history_reply frame, well under the
// client's 1 MiB frame limit; a longer catch-up or history is paged.
export const REPLY_BUDGET_BYTES = 256 * 1024;
// At most this many messages per catch-up page, whatever their size: a page reads only
// what it may send (plus one, to know whether more follow), so a long catch-up costs the
// same per page from the first to the last.
export const REPLY_PAGE_MESSAGES = 1000;

// How long a connection closed with an error frame may take to flush it before the
// socket is destroyed anyway (a client that stopped reading never drains).
export const CLOSE_FLUSH_MS = 1000;

// Membership timings used by the mesh; a LAN detects a hung node in about 2-3 s.
export const DEFAULT_HEARTBEAT_MS = 500;
export const DEFAULT_SUSPECT_AFTER_MS = 1500;
export const DEFAULT_DEAD_AFTER_MS = 2500;
// A dead member is dialled every few seconds in case it comes back; one not heard of
// for an hour was most likely taken out of the cluster, so it is forgotten (it rejoins
// through its seeds if it does come back), like memberlist's reaping of dead nodes.
export const DEFAULT_FORGET_DEAD_AFTER_MS = 60 * 60 * 1000;

// A peer that has not finished the handshake in this long is dropped, so half-open
// or silent connections cannot pile up on the peer port.
export const PEER_HANDSHAKE_TIMEOUT_MS = 5000;

// Handshake frames are a few hundred bytes; an unauthenticated stranger cannot make
// the node buffer more than this.
export const PEER_HANDSHAKE_MAX_FRAME_BYTES = 4096;

// Peers exchange anti-entropy batches, larger than client frames; batches are cut
// well below this (SYNC_BATCH_BYTES).
export const PEER_MAX_FRAME_BYTES = 8 * 1024 * 1024;

// A peer this far behind is cut off; it catches up by anti-entropy when it returns.
export const PEER_MAX_OUTBOUND_BYTES = 64 * 1024 * 1024;

// Redialling a lost peer: exponential backoff with full jitter between these bounds.
export const PEER_BACKOFF = { initialMs: 100, maxMs: 5000 };

// A member held dead is redialled this seldom, so a healed partition rejoins without
// a dead node's address costing a connection attempt every heartbeat.
export const DEAD_PEER_RETRY_MS = 5000;

// Peers asked to probe a suspect on our behalf (SWIM's k; memberlist uses 3).
export const INDIRECT_PROBES = 3;

// Full membership state goes to every peer every this many heartbeats (5 s at 500 ms).
export const FULL_SYNC_EVERY_TICKS = 10;

// Retention runs this often: trimming is bulk work, and a message living a little past
// its limit harms nobody.
export const DEFAULT_RETENTION_SWEEP_MS = 30_000;

// Anti-entropy with one random peer this often, beside every (re)connect.
export const DEFAULT_ANTI_ENTROPY_MS = 2000;

// One anti-entropy batch: small enough to interleave with live relay traffic.
export const SYNC_BATCH_MESSAGES = 500;
export const SYNC_BATCH_BYTES = 512 * 1024;

// Catch-up pauses while a peer link has this much unsent, so live traffic is not
// queued behind a bulk transfer.
export const SYNC_HIGH_WATER_BYTES = 1024 * 1024;

// Messages held per (room, origin) while waiting for a predecessor; past this the
// newest are dropped and anti-entropy fetches them again.
export const HOLDBACK_LIMIT = 10_000;

// Copies of a message before its sender gets the ack, the accepting node's included:
// 2 survives the loss of any one node (kill -9, a dead disk) at the cost of one peer
// round trip plus its commit per ack. 1 acks on the local commit alone.
export const DEFAULT_ACK_REPLICAS = 2;

// Group commit window of the lmdb store: a commit (an fsync, ~200 us of CPU here) at most
// every 2 ms. Under load that caps commits at ~500/s per node instead of one per
// event-loop turn, halving the node's CPU per message; it adds at most 2 ms to an ack.
export const DEFAULT_GROUP_COMMIT_MS = 2;

// A client that lost its node is back within about a second (kill -9: the socket closes
// at once and the next node answers; a hung node: ChatClient's 2 s keepalive timeout), and
// even a node declared dead only after deadAfterMs leaves its clients resumed well
// inside 5 s. So 5 s hides failovers from presence without keeping a client that is
// really gone listed (and reachable by DM) for long.
export const DEFAULT_RESUME_GRACE_MS = 5000;

// The longest a direct message waits for a recipient a node does not know yet (just
// started, or a peer just died: see AwaitedRecipients), whatever resumeGraceMs is: a
// sender should hear NO_SUCH_USER within seconds.
export const MAX_RECIPIENT_WAIT_MS = 5000;

// Token expiry is checked with this much slack: the issuer's clock and the node's may
// differ by a few seconds (NTP keeps them closer), and a token minted a moment ago
// must not be refused as not yet valid.
export const DEFAULT_TOKEN_CLOCK_TOLERANCE_S = 30;

// A token may live at most this long when `pnpm token` mints it without --ttl.
export const DEFAULT_TOKEN_TTL = '12h';

// A node whose own certificate expires within this logs a warning at startup; after
// expiry peers and clients refuse it, so renewal must happen before (operations.md).
export const TLS_EXPIRY_WARNING_MS = 14 * 24 * 60 * 60 * 1000;
