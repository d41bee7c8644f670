// Every error that can cross the wire has a stable code; callers branch on the code,
// never on the message text. The table is the single list of codes (docs/protocol.md).
export const ERROR_CODES = {
  // Framing and schema: the connection is closed after the error frame.
  FRAME_TOO_LARGE: 'declared frame length exceeds the limit',
  MALFORMED: 'bytes are not a msgpack map',
  INVALID_FRAME: 'a frame failed its schema',
  UNKNOWN_TYPE: 'the frame type is not known in this direction',
  VERSION_MISMATCH: 'protocol versions differ',
  NOT_READY: 'a frame arrived before hello',
  UNEXPECTED_FRAME: 'a frame arrived when it is not allowed',
  // Session rules: the request fails, the connection stays open unless stated.
  INVALID_NICK: 'nick does not follow the nick rules',
  NICK_TAKEN: 'nick is in use by another client',
  INVALID_ROOM: 'room name does not follow the room rules',
  NOT_IN_ROOM: 'the client has not joined that room',
  MESSAGE_TOO_LONG: 'text is longer than the limit',
  EMPTY_MESSAGE: 'text is empty or only whitespace',
  NO_SUCH_USER: 'no connected user has that nick',
  RATE_LIMITED: 'the client sends faster than its rate limit',
  TOO_MANY_ROOMS: 'the client is in as many rooms as the node allows one client',
  TOO_MANY_CONNECTIONS: 'the node, or its limit for one remote address, has no room for another connection',
  // Connection-ending conditions decided by the node.
  SLOW_CONSUMER: 'the client did not read fast enough; its outbound buffer overflowed',
  IDLE_TIMEOUT: 'nothing was received from the client within the timeout',
  SHUTTING_DOWN: 'the node is shutting down',
  SESSION_REPLACED: 'a newer connection of the same client (the same device, with auth) took over this session',
  INTERNAL: 'an internal error occurred',
  // Authentication (auth.required): the hello is refused and the connection closed.
  AUTH_REQUIRED: 'the node requires a token in hello',
  TOKEN_EXPIRED: 'the token has expired (at hello, or during the session)',
  TOKEN_INVALID: 'the token is not an acceptable JWT: malformed, an algorithm not accepted, a claim missing or wrong',
  TOKEN_SIGNATURE_INVALID: 'the token signature does not match the configured key',
  // Peer handshake refusals: the link is closed and both sides log why.
  AUTH_FAILED: 'the peer did not prove knowledge of the cluster secret',
  CLUSTER_MISMATCH: 'the peer belongs to another cluster',
  SELF_CONNECTION: 'a node dialled itself',
  DUPLICATE_LINK: 'the pair of nodes already has a link; the tie-break closed this one',
  HANDSHAKE_TIMEOUT: 'the handshake (a peer handshake, or a client hello) did not complete in time',
  PEER_DEAD: 'this node holds the peer dead; the peer should refute and reconnect',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CODES, value);
}

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
