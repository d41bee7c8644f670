#!/usr/bin/env node
import { hideBin } from 'yargs/helpers';
import { ChatClient } from '../index.js';
import { ChatApp } from './chat-app.js';
import { configDir, loadOrCreateClientId } from './client-id.js';
import { EXIT_GRACE_MS } from './constants.js';
import { CliError } from './errors.js';
import { Formatter, shouldUseColor } from './format.js';
import { type CliOptions, nickFromEnv, parseCliOptions } from './options.js';
import { Terminal } from './terminal.js';

async function main(): Promise<number> {
  const options = await parseCliOptions(hideBin(process.argv));
  const terminal = new Terminal({ input: process.stdin, output: process.stdout });
  let app: ChatApp | undefined;
  // Ctrl-C, SIGINT and SIGTERM leave at once (no waiting for acks), and cleanly.
  const interrupt = () => (app ? void app.quit({ flush: false }) : process.exit(0));
  terminal.onInterrupt(interrupt);
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);

  const nick = await chooseNick(options, terminal);
  const clientId = options.clientId ?? loadOrCreateClientId(configDir(), nick);
  const client = new ChatClient({
    servers: options.servers,
    nick,
    clientId,
    ...(options.token === undefined ? {} : { token: options.token }),
    ...(options.tlsCa === undefined ? {} : { tlsCa: options.tlsCa }),
  });
  app = new ChatApp({
    client,
    terminal,
    format: new Formatter({ color: shouldUseColor(process.stdout) }),
    printFatal: (text) => process.stderr.write(`${text}\n`),
  });
  return app.run(options.room);
}

/**
 * --nick, else asked for on a terminal (the login name as default), else the login name;
 * with a token, the nick the token carries is used and nothing is asked.
 */
async function chooseNick(options: CliOptions, terminal: Terminal): Promise<string> {
  if (options.nick !== undefined) return options.nick;
  const fallback = nickFromEnv();
  // With a token the node takes the nick from it; this one only names the device's id file.
  if (options.token !== undefined) return fallback ?? 'user';
  if (!terminal.isInteractive) {
    if (fallback) return fallback;
    throw new CliError('USAGE', 'no --nick given, and $USER does not make a valid nick; pass --nick NAME');
  }
  for (;;) {
    const answer = await terminal.ask(fallback ? `nick [${fallback}]: ` : 'nick: ');
    if (answer === undefined) throw new CliError('USAGE', 'no nick given');
    const nick = answer.trim() || fallback;
    if (nick) return nick;
  }
}

main().then(
  (exitCode) => {
    // Everything is closed, so the process ends by itself; the timer (unref'd, it
    // never holds the process) only catches a handle that was left open.
    process.exitCode = exitCode;
    setTimeout(() => process.exit(exitCode), EXIT_GRACE_MS).unref();
  },
  (err: unknown) => {
    const message = err instanceof CliError ? err.message : err instanceof Error ? (err.stack ?? err.message) : err;
    process.stderr.write(`meshchat: ${message}\n`);
    process.exit(1);
  },
);
