/** Why the terminal client could not start; main prints the message and exits 1. */
export type CliErrorCode = 'USAGE' | 'CLIENT_ID_FILE';

export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    readonly code: CliErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
