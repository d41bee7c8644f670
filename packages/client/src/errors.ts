import type { ErrorCode } from '@meshchat/protocol';

/** Codes the client raises itself, beside the node's codes from the protocol. */
export type ClientErrorCode = 'CONNECT_FAILED' | 'TIMEOUT' | 'CLOSED';

/**
 * Every rejection from ChatClient is one of these. Branch on `code`: a node's code
 * (e.g. NICK_TAKEN, NOT_IN_ROOM, RATE_LIMITED) or one of ClientErrorCode.
 */
export class ChatClientError extends Error {
  override readonly name = 'ChatClientError';
  constructor(
    readonly code: ErrorCode | ClientErrorCode | (string & {}),
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
