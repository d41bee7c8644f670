import type { ErrorCode } from '@meshchat/protocol';

/** A rule of the chat session was broken; becomes an `error` frame for the client. */
export class ChatError extends Error {
  override readonly name = 'ChatError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly fatal = false,
  ) {
    super(message);
  }
}

/** The node's configuration is invalid; main prints it and exits with status 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'CONFIG_INVALID';
}

/** The store cannot be opened or written; the message names the file. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  readonly code = 'STORE_FAILED';
  constructor(
    readonly path: string,
    message: string,
    cause?: unknown,
  ) {
    super(`${path}: ${message}`, { cause });
  }
}

/** The node could not start (a port in use, a data directory it cannot use). */
export class StartupError extends Error {
  override readonly name = 'StartupError';
  readonly code = 'STARTUP_FAILED';
}
