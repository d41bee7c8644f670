import { randomUUID } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { ClientId } from '@meshchat/protocol';
import { CliError } from './errors.js';

/** `$MESHCHAT_CONFIG_DIR`, else `$XDG_CONFIG_HOME/meshchat`, else `~/.config/meshchat`. */
export function configDir(env: NodeJS.ProcessEnv = process.env, home = homedir()): string {
  if (env.MESHCHAT_CONFIG_DIR) return env.MESHCHAT_CONFIG_DIR;
  // The XDG spec says a relative XDG_CONFIG_HOME is invalid and must be ignored.
  if (env.XDG_CONFIG_HOME && isAbsolute(env.XDG_CONFIG_HOME)) return join(env.XDG_CONFIG_HOME, 'meshchat');
  return join(home, '.config', 'meshchat');
}

/** Nicks are unique regardless of case on the node, so Alice and alice share one id. */
export function clientIdPath(dir: string, nick: string): string {
  return join(dir, 'clients', `${encodeURIComponent(nick.toLowerCase())}.id`);
}

/**
 * The stable clientId of this nick on this machine, created on first use. Keeping it
 * lets a restarted client replace its own stale session instead of finding its nick taken.
 */
export function loadOrCreateClientId(dir: string, nick: string): string {
  const path = clientIdPath(dir, nick);
  const existing = readClientId(path);
  if (existing !== undefined) return existing;
  // Written aside, then linked into place: link fails if the file exists, so when two
  // clients start at once one id wins and neither can read a half-written file.
  const draft = `${path}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(draft, `${randomUUID()}\n`, { mode: 0o600 });
    linkSync(draft, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new CliError('CLIENT_ID_FILE', `cannot create ${path}: ${(err as Error).message}`, { cause: err });
    }
  } finally {
    rmSync(draft, { force: true });
  }
  const created = readClientId(path);
  if (created === undefined) throw new CliError('CLIENT_ID_FILE', `${path} vanished while it was being created`);
  return created;
}

function readClientId(path: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CliError('CLIENT_ID_FILE', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  const id = text.trim();
  if (!ClientId.safeParse(id).success) {
    throw new CliError(
      'CLIENT_ID_FILE',
      `${path} does not hold a client id (1-128 characters); delete it to get a new one or pass --client-id`,
    );
  }
  return id;
}
