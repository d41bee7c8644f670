/** One pino JSON line of a node (level 30 info, 40 warn, 50 error, 60 fatal). */
export interface LogLine {
  level: number;
  time: number;
  msg: string;
  nodeId?: string;
  [field: string]: unknown;
}

/** Somewhere a test reads a node's log from: its lines, plus raw text that was not JSON (stderr). */
export interface LogSource {
  name: string;
  lines: readonly LogLine[];
  raw: readonly string[];
}

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** A log line as a person reads it: time, level, message, then the other fields. */
export function formatLogLine(line: LogLine): string {
  const { level, time, msg, nodeId: _nodeId, pid: _pid, hostname: _hostname, ...fields } = line;
  const rest = Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : '';
  return `${new Date(time).toISOString().slice(11, 23)} ${LEVELS[level] ?? level} ${msg}${rest}`;
}

/** Lines whose msg contains `text` and whose fields match `fields` (e.g. `{ peer: 'n2' }`). */
export function logsMatching(lines: readonly LogLine[], text: string, fields: Record<string, unknown> = {}): LogLine[] {
  return lines.filter((l) => l.msg.includes(text) && Object.entries(fields).every(([k, v]) => l[k] === v));
}
