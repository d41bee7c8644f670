import { readFileSync } from 'node:fs';
import { parseServerAddress } from '@meshchat/protocol';
import yargs from 'yargs';
import { DEFAULT_ROOM, DEFAULT_SERVERS, MAX_DERIVED_NICK_LENGTH } from './constants.js';
import { CliError } from './errors.js';

export interface CliOptions {
  servers: string[];
  /** Absent when not given: asked for on a terminal, else taken from $USER. */
  nick?: string;
  room: string;
  clientId?: string;
  /** A JWT for nodes that require authentication (--token, else $MESHCHAT_TOKEN). */
  token?: string;
  /** PEM of the CA that TLS nodes' certificates chain to (--tls-ca FILE). */
  tlsCa?: string;
}

/** Reads the command line; yargs prints usage and exits 1 on unknown or malformed flags. */
export async function parseCliOptions(args: string[]): Promise<CliOptions> {
  const argv = await yargs(args)
    .scriptName('meshchat')
    .usage(
      '$0 [--servers [tls://]host:port,...] [--nick NAME] [--room ROOM] [--client-id ID] [--token JWT] [--tls-ca FILE]',
    )
    .option('servers', {
      type: 'string',
      default: DEFAULT_SERVERS.join(','),
      describe: 'seed nodes, comma-separated, tls://host:port for TLS; one reachable seed is enough',
    })
    .option('nick', { type: 'string', describe: 'your nickname (asked for when not given on a terminal)' })
    .option('room', { type: 'string', default: DEFAULT_ROOM, describe: 'room joined at start' })
    .option('client-id', {
      type: 'string',
      describe: 'stable client id; by default one per nick is kept in the config directory',
    })
    .option('tls-ca', {
      type: 'string',
      describe: 'CA certificate (PEM file) that TLS nodes are checked against (default: the system CAs)',
    })
    .option('token', {
      type: 'string',
      describe: 'token for nodes that require authentication (default $MESHCHAT_TOKEN; `pnpm token` mints one)',
    })
    .epilogue(
      'Type /help once connected for the commands. The config directory is $MESHCHAT_CONFIG_DIR, ' +
        'else $XDG_CONFIG_HOME/meshchat, else ~/.config/meshchat.',
    )
    .strict()
    .help()
    .version(false)
    .parseAsync();
  return {
    servers: parseServers(argv.servers),
    room: argv.room.replace(/^#/, ''),
    ...(argv.nick === undefined ? {} : { nick: argv.nick }),
    ...(argv['client-id'] === undefined ? {} : { clientId: argv['client-id'] }),
    ...tokenOption(argv.token ?? process.env.MESHCHAT_TOKEN),
    ...(argv['tls-ca'] === undefined ? {} : { tlsCa: readCa(argv['tls-ca']) }),
  };
}

function readCa(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError('USAGE', `--tls-ca: cannot read ${file}: ${(err as NodeJS.ErrnoException).code}`, {
      cause: err,
    });
  }
}

function tokenOption(token: string | undefined): { token?: string } {
  return token === undefined || token.trim() === '' ? {} : { token: token.trim() };
}

export function parseServers(list: string): string[] {
  const servers = list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (servers.length === 0) throw new CliError('USAGE', '--servers: give at least one host:port');
  for (const server of servers) {
    try {
      parseServerAddress(server);
    } catch (err) {
      throw new CliError('USAGE', `--servers: ${(err as Error).message}`, { cause: err });
    }
  }
  return servers;
}

/**
 * A nick from the login name, for when none was given and nobody can be asked: the
 * characters a nick cannot hold are dropped. The node has the last word on validity.
 */
export function nickFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const login = env.USER ?? env.LOGNAME ?? env.USERNAME ?? '';
  const nick = login.replace(/[^A-Za-z0-9_\-[\]{}^`|]/g, '').slice(0, MAX_DERIVED_NICK_LENGTH);
  return /^[A-Za-z]/.test(nick) ? nick : undefined;
}
