import type { ChatMessage, Member } from '@meshchat/protocol';
import type { DirectMessage } from '../chat-client.js';

// Bright and normal foreground colors, without black and white: readable on dark and
// light backgrounds alike.
const NICK_COLORS = [31, 32, 33, 34, 35, 36, 91, 92, 93, 94, 95, 96] as const;
const FG_RESET = 39;
const DIM = 2;
const DIM_RESET = 22;
const ERROR_COLOR = 31;
// Continuation lines of a multi-line message line up under the text, past "HH:MM ".
const CONTINUATION_INDENT = '      ';

/** Color only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function shouldUseColor(output: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return output.isTTY === true && !env.NO_COLOR;
}

/**
 * The ANSI color of a nick: FNV-1a of the lowercased nick, so it is the same in every
 * client and every run, and (like nick uniqueness) ignores case.
 */
export function nickColor(nick: string): number {
  let hash = 0x811c9dc5;
  for (const char of nick.toLowerCase()) {
    hash ^= char.codePointAt(0) ?? 0;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return NICK_COLORS[hash % NICK_COLORS.length] ?? FG_RESET;
}

/** "1 message", "3 messages". */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** Local time as HH:MM. */
export function clock(epochMs: number): string {
  const date = new Date(epochMs);
  return `${String(date.getHours()).padStart(2, '0')}:${String(date.getMinutes()).padStart(2, '0')}`;
}

/**
 * Text from other people, made safe to print: control characters could move the
 * cursor, recolor the terminal or rewrite the prompt, so each becomes U+FFFD; tabs
 * become spaces and newlines are kept, indented under the first line.
 */
export function sanitize(text: string): string {
  return (
    text
      .replaceAll('\t', '  ')
      // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
      .replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g, '\uFFFD')
      .replaceAll('\n', `\n${CONTINUATION_INDENT}`)
  );
}

export interface FormatterOptions {
  color: boolean;
  /** Clock for lines that carry no timestamp of their own (system lines, sent DMs). */
  now?: () => number;
}

/** Turns chat events into terminal lines: "HH:MM nick: text", system lines dimmed. */
export class Formatter {
  private readonly now: () => number;

  constructor(private readonly options: FormatterOptions) {
    this.now = options.now ?? Date.now;
  }

  /** A room message; messages of other rooms than the current one name their room. */
  message(message: ChatMessage, currentRoom: string | undefined): string {
    const room = message.room === currentRoom ? '' : `${this.room(message.room)} `;
    return `${clock(message.sentAt)} ${room}${this.nick(message.from.nick)}: ${sanitize(message.text)}`;
  }

  direct(message: DirectMessage): string {
    return `${clock(message.sentAt)} [dm] ${this.nick(message.from.nick)}: ${sanitize(message.text)}`;
  }

  sentDirect(to: string, text: string): string {
    return `${clock(this.now())} -> ${this.nick(to)}: ${sanitize(text)}`;
  }

  /** Something the client says (joins, presence, failover), dimmed. */
  info(text: string): string {
    return this.paint(DIM, DIM_RESET, `${clock(this.now())} * ${text}`);
  }

  /** A failed command or send: one line, the stable code first. */
  error(code: string, message: string): string {
    return this.paint(ERROR_COLOR, FG_RESET, `${clock(this.now())} ! ${code}: ${sanitize(message)}`);
  }

  nick(nick: string): string {
    return this.paint(nickColor(nick), FG_RESET, sanitize(nick));
  }

  room(room: string): string {
    return `#${sanitize(room)}`;
  }

  members(members: readonly Member[]): string {
    return members.map((m) => `${this.nick(m.nick)} (${sanitize(m.nodeId)})`).join(', ');
  }

  /** "[node-a #general] > ", or "[reconnecting …] > " while between nodes. */
  prompt(nodeId: string | undefined, room: string | undefined): string {
    const where = nodeId === undefined ? 'reconnecting' : sanitize(nodeId);
    return `[${where}${room === undefined ? '' : ` ${this.room(room)}`}] > `;
  }

  private paint(code: number, reset: number, text: string): string {
    return this.options.color ? `\u001b[${code}m${text}\u001b[${reset}m` : text;
  }
}
