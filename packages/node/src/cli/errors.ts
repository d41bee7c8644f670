/** Why the status command failed; main prints the message and exits 1. */
export type StatusErrorCode = 'USAGE' | 'UNREACHABLE' | 'BAD_RESPONSE';

export class StatusError extends Error {
  override readonly name = 'StatusError';
  constructor(
    readonly code: StatusErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
