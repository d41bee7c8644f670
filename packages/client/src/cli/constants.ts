// Defaults of the terminal client, each with the reason for its value.

// The local demo cluster (config/node-*.json); one reachable seed is enough.
export const DEFAULT_SERVERS = ['127.0.0.1:7001', '127.0.0.1:7002', '127.0.0.1:7003'];

// Every user lands in the same room unless they ask for another, as on most chat services.
export const DEFAULT_ROOM = 'general';

// About a screenful: enough to pick up a conversation without scrolling it away.
export const DEFAULT_HISTORY_LINES = 20;

// On /quit or end of input, unacked sends get this long to be acked before the client
// closes, so `echo hi | meshchat` delivers its line; a dead cluster cannot hold the exit.
export const QUIT_FLUSH_MS = 2000;

// After closing, the process should exit by itself; if a stray handle keeps it alive,
// it is forced out after this long (an unref'd timer, so it never delays a clean exit).
export const EXIT_GRACE_MS = 1000;

// Nodes allow nicks of up to 32 characters (IRC-like); a nick derived from $USER is cut to fit.
export const MAX_DERIVED_NICK_LENGTH = 32;
