import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import { DEFAULT_STATUS_NODE, DEFAULT_STATUS_TIMEOUT_MS } from './constants.js';
import { StatusError } from './errors.js';

export interface StatusOptions {
  /** host:port of the node's HTTP listener, or https://host:port when it serves HTTPS. */
  node: string;
  /** PEM of the CA an HTTPS node's certificate chains to. */
  ca?: string;
  json: boolean;
  timeoutMs: number;
}

const HOST_PORT = /^(https:\/\/)?([^\s:/[\]]+:\d{1,5}|\[[0-9a-fA-F:]+\]:\d{1,5})$/;

/** Reads the command line; yargs prints usage and exits 1 on unknown or malformed flags. */
export async function parseStatusOptions(args: string[]): Promise<StatusOptions> {
  const argv = await yargs(args)
    .scriptName('cluster:status')
    .usage('$0 [--node host:port] [--json]\n\nThe cluster as one node sees it: members, their states and rooms.')
    .option('node', {
      type: 'string',
      default: DEFAULT_STATUS_NODE,
      describe: "HTTP address (host:httpPort, https://host:httpPort) of the node to ask; it shows that node's view",
    })
    .option('ca', { type: 'string', describe: 'CA certificate (PEM file) an HTTPS node is checked against' })
    .option('json', { type: 'boolean', default: false, describe: 'print the raw /cluster JSON instead of tables' })
    .option('timeout', {
      type: 'number',
      default: DEFAULT_STATUS_TIMEOUT_MS,
      describe: 'milliseconds to wait for an answer (a paused node never answers)',
    })
    .strict()
    .help()
    .version(false)
    .parseAsync();
  if (!HOST_PORT.test(argv.node)) {
    throw new StatusError('USAGE', `--node: expected host:port (e.g. ${DEFAULT_STATUS_NODE}), got "${argv.node}"`);
  }
  if (!Number.isInteger(argv.timeout) || argv.timeout <= 0) {
    throw new StatusError('USAGE', `--timeout: expected a positive number of milliseconds, got "${argv.timeout}"`);
  }
  return {
    node: argv.node,
    json: argv.json,
    timeoutMs: argv.timeout,
    ...(argv.ca === undefined ? {} : { ca: readCa(argv.ca) }),
  };
}

function readCa(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new StatusError('USAGE', `--ca: cannot read ${file}: ${(err as NodeJS.ErrnoException).code}`, { cause: err });
  }
}
