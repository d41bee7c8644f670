#!/usr/bin/env node
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { mintToken } from '../auth/mint-token.js';
import { loadConfig } from '../config/load.js';
import { DEFAULT_TOKEN_TTL } from '../constants.js';
import { ConfigError } from '../errors.js';
import { DEFAULT_TOKEN_CONFIG } from './constants.js';

// `pnpm token --user alice [--nick Alice] [--ttl 1h] [--config config/node-a.json]`:
// prints a token signed with the config's auth.hs256Secret (or --private-key, EdDSA),
// for local use; production tokens come from the application's own login.
async function main(): Promise<void> {
  const argv = await yargs(hideBin(process.argv))
    .scriptName('token')
    .usage('$0 --user ID [--nick NICK] [--ttl 1h] [--config FILE] [--private-key FILE]')
    .option('user', { type: 'string', demandOption: true, describe: "the user id (the token's sub)" })
    .option('nick', { type: 'string', describe: 'display nick (default: the user id)' })
    .option('ttl', { type: 'string', default: DEFAULT_TOKEN_TTL, describe: 'lifetime: 3600, 30m, 1h, 7d' })
    .option('config', {
      type: 'string',
      default: DEFAULT_TOKEN_CONFIG,
      describe: 'node config whose auth settings (secret, issuer, audience) the token is for',
    })
    .option('private-key', { type: 'string', describe: 'sign with EdDSA: an Ed25519 private key (PEM file)' })
    .strict()
    .help()
    .version(false)
    .parseAsync();
  const { auth } = loadConfig(argv.config);
  const privateKey = argv['private-key'];
  let key: Parameters<typeof mintToken>[0]['key'];
  if (privateKey !== undefined) {
    key = { ed25519PrivateKey: createPrivateKey(readFileSync(privateKey, 'utf8')) };
  } else if (auth.hs256Secret !== undefined) {
    key = { hs256Secret: auth.hs256Secret };
  } else {
    throw new ConfigError(`${argv.config}: auth.hs256Secret is not set; set it, or sign with --private-key`);
  }
  const ttl = /^\d+$/.test(argv.ttl) ? Number(argv.ttl) : argv.ttl;
  const token = await mintToken({
    userId: argv.user,
    ttl,
    key,
    ...(argv.nick === undefined ? {} : { nick: argv.nick }),
    ...(auth.issuer === undefined ? {} : { issuer: auth.issuer }),
    ...(auth.audience === undefined ? {} : { audience: auth.audience }),
  });
  process.stdout.write(`${token}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`token: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(err instanceof ConfigError ? 2 : 1);
});
