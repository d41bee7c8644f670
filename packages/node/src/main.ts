#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { loadConfig } from './config/load.js';
import { createNode } from './create-node.js';
import { ConfigError, StartupError, StoreError } from './errors.js';
import { createLogger } from './log.js';

const EXIT_CONFIG = 2;
const EXIT_FAILURE = 1;

async function main(): Promise<void> {
  const argv = await yargs(hideBin(process.argv))
    .scriptName('meshchat-node')
    .usage('$0 --config <file> [--field value ...]')
    .option('config', { type: 'string', describe: 'JSON config file (see README "Config")' })
    .epilogue(
      'Any config field can be given or overridden as a flag: --clientPort 7005, --limits.ratePerSec 50, --seeds a:1,b:2',
    )
    .parserConfiguration({ 'camel-case-expansion': false, 'dot-notation': true, 'parse-numbers': false })
    .strict(false)
    .help()
    .parseAsync();

  const { _, $0, config: file, ...overrides } = argv;
  const config = loadConfig(file, overrides);
  const log = createLogger(config.nodeId, config.logLevel);
  const node = await createNode(config, { log });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    node.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  // A bug that escapes every handler leaves state we cannot trust: log it once with
  // context and exit, so clients fail over to a healthy node.
  process.on('uncaughtException', (err) => {
    log.fatal({ err }, 'uncaught exception; exiting');
    process.exit(EXIT_FAILURE);
  });
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`meshchat-node: invalid configuration\n${err.message}\n`);
    process.exit(EXIT_CONFIG);
  }
  if (err instanceof StartupError || err instanceof StoreError) {
    process.stderr.write(`meshchat-node: ${err.message}\n`);
    process.exit(EXIT_FAILURE);
  }
  process.stderr.write(`meshchat-node: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : err}\n`);
  process.exit(EXIT_FAILURE);
});
