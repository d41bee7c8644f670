import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

/**
 * pino JSON logs with nodeId bound to every line; human-readable when stdout is a
 * terminal, JSON otherwise (for files and log shippers).
 */
export function createLogger(nodeId: string, level: string): Logger {
  const options = { level, base: { nodeId } };
  if (process.stdout.isTTY) {
    return pino(options, pretty({ colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' }));
  }
  return pino(options);
}
