/** What a line typed in the composer asks for. */
export type Command =
  | { kind: 'say'; text: string }
  | { kind: 'join'; room: string }
  | { kind: 'leave'; room?: string }
  | { kind: 'dm'; nick: string; text: string }
  | { kind: 'invalid'; problem: string };

export const COMMAND_HELP = '/join room · /leave [room] · /msg nick text';

/** The terminal client's commands that make sense on a page; any other line is said. */
export function parseCommand(line: string): Command {
  const text = line.trim();
  if (!text.startsWith('/') || text.startsWith('//')) return { kind: 'say', text: text.replace(/^\/\//, '/') };
  const [name = '', ...rest] = text.slice(1).split(/\s+/);
  switch (name.toLowerCase()) {
    case 'join':
      return rest[0] ? { kind: 'join', room: rest[0] } : { kind: 'invalid', problem: 'usage: /join room' };
    case 'leave':
    case 'part':
      return rest[0] ? { kind: 'leave', room: rest[0] } : { kind: 'leave' };
    case 'msg':
    case 'dm': {
      const [nick, ...words] = rest;
      return nick && words.length > 0
        ? { kind: 'dm', nick, text: words.join(' ') }
        : { kind: 'invalid', problem: 'usage: /msg nick text' };
    }
    default:
      return { kind: 'invalid', problem: `unknown command /${name}: ${COMMAND_HELP} (// starts a line with /)` };
  }
}
