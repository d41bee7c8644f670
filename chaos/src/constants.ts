// Defaults and limits of `pnpm chaos`, each with the reason for it. See docs/reliability.md.

export const DEFAULT_NODES = 3;
export const DEFAULT_CLIENTS = 30;
export const DEFAULT_ROOMS = 3;
export const DEFAULT_DURATION_S = 60;

/** Where runs are kept (git-ignored): history, node logs, and the stores when a check fails. */
export const RUNS_DIR = '.chaos/runs';

// Node timings: failure detection in about a second, so a one-minute run fits a dozen
// faults; the ratios are those of the defaults (suspect after 3 heartbeats, dead after 5).
export const NODE_CONFIG = {
  heartbeat: { heartbeatMs: 200, suspectAfterMs: 600, deadAfterMs: 1000 },
  antiEntropyMs: 500,
  logLevel: 'info',
} as const;

// Clients leave a silent node after a second and give a silent dial a second, as the
// failover suite's fast clients do; backoff capped low so a client is back quickly.
export const CLIENT_OPTIONS = {
  pingMs: 250,
  pingTimeoutMs: 1000,
  connectTimeoutMs: 1000,
  backoff: { initialMs: 100, maxMs: 1000 },
} as const;

// Each client sends one message every 400 ms: 30 clients make 75 messages/s and, in 1.5
// rooms of 3 each on average, about 900 deliveries/s, light enough for 2 cores to carry
// the nodes, the clients and the proxies without the run measuring its own overload.
export const SEND_EVERY_MS = 400;
// Every 4th message of a client is a direct message to another client, drawn at random:
// direct messages follow their recipient across failovers through its inbox cursor.
export const DM_EVERY = 4;

// The cluster and clients settle before the first fault.
export const WARMUP_MS = 2000;
// After the last fault heals, the load goes on this long (a fifth of the run, 5-30 s).
export const QUIET_FRACTION = 0.2;
export const MIN_QUIET_MS = 5000;
export const MAX_QUIET_MS = 30_000;

// How long each kind of fault lasts before it heals, [min, max] ms. A pause mostly runs
// past deadAfterMs, so peers declare the node dead and it must refute; a restart is
// brief (an operator's restart), a kill leaves the node down a while.
export const HOLD_MS = {
  kill: [300, 4000],
  restart: [0, 1500],
  pause: [300, 3000],
  partition: [1000, 5000],
  slow: [2000, 6000],
} as const;
// Between one fault's heal and the next fault, [min, max] ms.
export const GAP_MS = [500, 2500] as const;
// Guards the schedule's loop; a run of an hour at the shortest gaps stays far below it.
export const MAX_EPISODES = 10_000;

// A slow link in the proxy layer delays every byte by this much each way, [min, max] ms.
export const SLOW_DELAY_MS = [100, 400] as const;
// A lossy link in the proxy layer: every LOSS_TICK_MS each direction starts, with this
// probability, a burst in which nothing gets through, as TCP sees loss: bytes arrive
// late, after a retransmission timeout, [min, max] ms.
export const LOSS_TICK_MS = 100;
export const LOSS_PROBABILITY = 0.2;
export const LOSS_BURST_MS = [200, 600] as const;
// The namespace layer shapes the mesh link with a token bucket at about the rate the
// node's replication needs: a long queue makes it slow (up to ~1.3 s of delay), a short
// one makes it drop whatever a burst brings beyond a few packets.
export const NETNS_SLOW = { rateKbit: 400, queueBytes: 64 * 1024 } as const;
export const NETNS_LOSSY = { rateKbit: 400, queueBytes: 4 * 1024 } as const;

// Restarting a killed node can race another process for its port; a few tries settle it.
export const RESTART_TRIES = 3;

// The settle phase polls each condition until this deadline, then lets the checker
// name what is missing.
export const SETTLE_SENDS_MS = 60_000;
export const SETTLE_DELIVERIES_MS = 60_000;
export const SETTLE_CONVERGENCE_MS = 60_000;
export const SETTLE_POLL_MS = 100;

/** Evidence lines printed per violated guarantee; the full list goes to the run's verdict.txt. */
export const EVIDENCE_SHOWN = 5;
