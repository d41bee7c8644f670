// Defaults of ChatClient's options and the client's fixed bounds, each with the reason
// for its value. README.md "Options" and docs/protocol.md "Keepalive" describe them.

// A ping a second proves a node alive on a quiet connection and keeps the node's idle
// timeout (15 s by default) far away. Pinging more often would cost every node CPU for
// each idle client (a ping in and a pong out), for nothing on a busy connection.
export const DEFAULT_PING_MS = 1000;

// A node not heard from for 2 s is left for another. A live node answers a ping within
// about a second even on a quiet connection, so this leaves it a second of stall (a GC
// pause, a long commit) before it is given up; and it leaves the clients of a hung node
// (SIGSTOP, a silent partition) 0.75 s of issue 5's 3 s to reconnect and receive the
// first page of their catch-up (left after at most 2.25 s).
export const DEFAULT_PING_TIMEOUT_MS = 2000;

// The silence is checked this many times per pingTimeoutMs (every 250 ms by default),
// not only when a ping is due: a hung node is left at most an eighth of the timeout
// after it, whatever the ping interval. A check reads the clock; nothing is sent.
export const SILENCE_CHECKS_PER_TIMEOUT = 8;

// TCP connect plus hello/welcome take milliseconds on a LAN; a node that accepts the
// connection but never welcomes (hung, overloaded) is left after this.
export const DEFAULT_CONNECT_TIMEOUT_MS = 3000;

// Replies to join/leave/history/rooms/who; a join may carry a long catch-up.
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

// Reconnect attempts: exponential backoff with full jitter (issue 5), so the clients of
// a failed node spread their attempts instead of storming the survivors.
export const DEFAULT_BACKOFF = { initialMs: 100, maxMs: 5000 } as const;

// After close() says bye, how long the node has to close the connection before the
// client does: the bye tells nodes to announce this client's leaves at once rather than
// hold its presence for a resume, and a node that does not answer cannot hold close().
export const BYE_TIMEOUT_MS = 1000;
