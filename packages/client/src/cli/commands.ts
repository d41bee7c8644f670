import { MAX_HISTORY_LIMIT } from '@meshchat/protocol';
import type { BaseChatClient } from '../chat-client.js';
import { DEFAULT_HISTORY_LINES } from './constants.js';
import { count, type Formatter } from './format.js';

/** What one line of input asks for. */
export type Command =
  | { name: 'say'; text: string }
  | { name: 'join'; room: string }
  | { name: 'leave'; room?: string }
  | { name: 'rooms' }
  | { name: 'who'; room?: string }
  | { name: 'msg'; nick: string; text: string }
  | { name: 'history'; limit: number }
  | { name: 'help' }
  | { name: 'quit' };

export type ParsedLine =
  | { command: Command }
  | { error: { code: 'UNKNOWN_COMMAND' | 'USAGE'; message: string } }
  | { empty: true };

interface CommandSpec {
  usage: string;
  summary: string;
  /** Builds the command from the text after the command word, or says what is wrong. */
  parse(args: string[], rest: string): Command | string;
}

// "#general" and "general" name the same room; people type the # out of habit.
const roomArg = (arg: string) => arg.replace(/^#/, '');

const COMMANDS: Record<string, CommandSpec> = {
  join: {
    usage: '/join <room>',
    summary: 'join a room and make it current; shows its recent history',
    parse: ([room, ...extra]) => (room && extra.length === 0 ? { name: 'join', room: roomArg(room) } : usage('join')),
  },
  leave: {
    usage: '/leave [room]',
    summary: 'leave a room (the current one by default)',
    parse: ([room, ...extra]) =>
      extra.length > 0 ? usage('leave') : room ? { name: 'leave', room: roomArg(room) } : { name: 'leave' },
  },
  rooms: {
    usage: '/rooms',
    summary: 'rooms on the node with their member counts',
    parse: (args) => (args.length === 0 ? { name: 'rooms' } : usage('rooms')),
  },
  who: {
    usage: '/who [room]',
    summary: 'who is in a room (the current one by default), and on which node',
    parse: ([room, ...extra]) =>
      extra.length > 0 ? usage('who') : room ? { name: 'who', room: roomArg(room) } : { name: 'who' },
  },
  msg: {
    usage: '/msg <nick> <text>',
    summary: 'send a direct message',
    parse: ([nick], rest) => {
      const text = nick === undefined ? '' : rest.slice(rest.indexOf(nick) + nick.length).trim();
      return nick && text ? { name: 'msg', nick, text } : usage('msg');
    },
  },
  history: {
    usage: `/history [n]`,
    summary: `the last n messages of the current room (default ${DEFAULT_HISTORY_LINES}, at most ${MAX_HISTORY_LIMIT})`,
    parse: ([n, ...extra]) => {
      if (n === undefined) return { name: 'history', limit: DEFAULT_HISTORY_LINES };
      const limit = Number(n);
      if (extra.length > 0 || !/^\d+$/.test(n) || limit < 1 || limit > MAX_HISTORY_LIMIT) {
        return `${usage('history')}: n is a whole number from 1 to ${MAX_HISTORY_LIMIT}`;
      }
      return { name: 'history', limit };
    },
  },
  help: { usage: '/help', summary: 'this list', parse: () => ({ name: 'help' }) },
  quit: { usage: '/quit', summary: 'leave (Ctrl-D and Ctrl-C too)', parse: () => ({ name: 'quit' }) },
};

function usage(name: keyof typeof COMMANDS): string {
  return `usage: ${COMMANDS[name]?.usage}`;
}

/**
 * Reads one line of input: "/name args" is a command, anything else is said in the
 * current room; "//text" says "/text".
 */
export function parseLine(line: string): ParsedLine {
  const trimmed = line.trim();
  if (trimmed === '') return { empty: true };
  if (trimmed.startsWith('//')) return { command: { name: 'say', text: trimmed.slice(1) } };
  if (!trimmed.startsWith('/')) return { command: { name: 'say', text: trimmed } };
  const [word = '', ...args] = trimmed.slice(1).split(/\s+/);
  const spec = Object.hasOwn(COMMANDS, word.toLowerCase()) ? COMMANDS[word.toLowerCase()] : undefined;
  if (!spec) {
    return { error: { code: 'UNKNOWN_COMMAND', message: `unknown command /${word}; /help lists the commands` } };
  }
  const parsed = spec.parse(args, trimmed.slice(1 + word.length));
  return typeof parsed === 'string' ? { error: { code: 'USAGE', message: parsed } } : { command: parsed };
}

export function helpLines(): string[] {
  const width = Math.max(...Object.values(COMMANDS).map((c) => c.usage.length));
  return [
    'type a line to say it in the current room ("//text" says "/text"); commands:',
    ...Object.values(COMMANDS).map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`),
  ];
}

/** What commands act on: the client, the screen and the client's current room. */
export interface CommandContext {
  readonly client: Pick<BaseChatClient, 'joinedRooms' | 'leave' | 'send' | 'dm' | 'history' | 'rooms' | 'who'>;
  readonly format: Formatter;
  print(line: string): void;
  currentRoom(): string | undefined;
  setCurrentRoom(room: string | undefined): void;
  /** Joins (or, if joined already, switches to) a room and shows its history. */
  enterRoom(room: string): Promise<void>;
  /** Keeps a send that is waiting for its ack, so quitting can wait for it. */
  track(send: Promise<unknown>): void;
  quit(): Promise<void>;
}

/** Carries out a command; a rejection (a ChatClientError) is the caller's to show. */
export async function runCommand(command: Command, ctx: CommandContext): Promise<void> {
  const { client, format } = ctx;
  switch (command.name) {
    case 'say': {
      const room = requireRoom(ctx, undefined);
      // Not awaited: the message shows when the node delivers it back, and the next
      // line must not wait for this one's ack (it may wait out a failover).
      ctx.track(client.send(room, command.text));
      return;
    }
    case 'msg':
      ctx.track(
        client.dm(command.nick, command.text).then(() => ctx.print(format.sentDirect(command.nick, command.text))),
      );
      return;
    case 'join':
      return ctx.enterRoom(command.room);
    case 'leave': {
      const room = requireRoom(ctx, command.room);
      await client.leave(room);
      ctx.print(format.info(`left ${format.room(room)}`));
      if (room === ctx.currentRoom()) {
        const next = client.joinedRooms.at(-1);
        ctx.setCurrentRoom(next);
        ctx.print(format.info(next ? `now in ${format.room(next)}` : 'not in any room; /join one to talk'));
      }
      return;
    }
    case 'rooms': {
      const rooms = await client.rooms();
      const list = rooms.map((r) => `${format.room(r.name)} (${count(r.members, 'member')})`).join(', ');
      ctx.print(format.info(rooms.length === 0 ? 'no rooms yet' : `rooms: ${list}`));
      return;
    }
    case 'who': {
      const room = requireRoom(ctx, command.room);
      const members = await client.who(room);
      ctx.print(
        format.info(
          members.length === 0
            ? `nobody is in ${format.room(room)}`
            : `${count(members.length, 'member')} in ${format.room(room)}: ${format.members(members)}`,
        ),
      );
      return;
    }
    case 'history': {
      const room = requireRoom(ctx, undefined);
      const { messages, hasMore } = await client.history(room, { limit: command.limit });
      if (messages.length === 0) {
        ctx.print(format.info(`no messages in ${format.room(room)} yet`));
        return;
      }
      const more = hasMore ? '; older ones exist' : '';
      ctx.print(format.info(`last ${count(messages.length, 'message')} of ${format.room(room)}${more}:`));
      for (const message of messages) ctx.print(format.message(message, room));
      return;
    }
    case 'help':
      for (const line of helpLines()) ctx.print(format.info(line));
      return;
    case 'quit':
      return ctx.quit();
  }
}

/** The room a command names, else the current one; without either it cannot run. */
function requireRoom(ctx: CommandContext, room: string | undefined): string {
  const target = room ?? ctx.currentRoom();
  if (target === undefined) throw new CommandError('not in any room; /join one first');
  return target;
}

/** A command that cannot run as typed; shown like a node's error, with code USAGE. */
export class CommandError extends Error {
  override readonly name = 'CommandError';
  readonly code = 'USAGE';
}
