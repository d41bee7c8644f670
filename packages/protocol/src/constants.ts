// Wire-format constants. Every limit lives here once, with the reason beside it.

// Bumped whenever a frame changes shape; hello carries it and a mismatch is refused
// (docs/protocol.md, "Versioning").
export const PROTOCOL_VERSION = 2;

// A frame starts with its payload length as an unsigned 32-bit big-endian integer.
export const LENGTH_PREFIX_BYTES = 4;

// Where a node's HTTP listener takes WebSocket connections: the same frames as on its
// client port, for browsers (docs/protocol.md "WebSocket").
export const WEBSOCKET_PATH = '/ws';

// Upper bound on one frame's payload when the caller does not give one. Chat frames
// are small; 1 MiB leaves room for history replies without letting a peer make us
// buffer arbitrarily much before we can reject it.
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024;

// Structural bounds checked by the schemas. Nodes enforce stricter, configurable
// rules (nick and room syntax, message length) on top of these.
export const MAX_ID_LENGTH = 128;
export const MAX_NAME_LENGTH = 128;
export const MAX_TEXT_LENGTH = 64 * 1024;
export const MAX_HISTORY_LIMIT = 1000;
// A JWT with a few claims is a few hundred bytes; 4 KiB leaves room for long ids and
// extra claims while keeping a hello small.
export const MAX_TOKEN_LENGTH = 4096;

// Nick and room syntax, the nodes' rule (clients check it too, before asking): IRC-like,
// safe to print in a terminal and in a URL. Their lengths are node config
// (limits.maxNickLength, limits.maxRoomNameLength), with these defaults.
export const NICK_PATTERN = /^[A-Za-z][A-Za-z0-9_\-[\]{}^`|]*$/;
export const ROOM_PATTERN = /^[a-z0-9][a-z0-9_.-]*$/;
// IRC's NICKLEN on modern networks is 30-32; a nick is a label, not a sentence.
export const DEFAULT_MAX_NICK_LENGTH = 32;
// Room names appear in prompts, URLs and store keys; 64 is plenty for a channel name.
export const DEFAULT_MAX_ROOM_NAME_LENGTH = 64;
