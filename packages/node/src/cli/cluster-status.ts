#!/usr/bin/env node
import { hideBin } from 'yargs/helpers';
import { StatusError } from './errors.js';
import { fetchClusterView } from './fetch-cluster-view.js';
import { parseStatusOptions } from './status-options.js';
import { formatClusterView, shouldUseColor } from './status-report.js';

// `pnpm cluster:status [--node 127.0.0.1:7201] [--json]`: the cluster as one node sees
// it, from that node's GET /cluster.
async function main(): Promise<void> {
  // `cluster:status | head` closes the pipe early: that is the reader's choice, not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(0);
  });
  const options = await parseStatusOptions(hideBin(process.argv));
  const view = await fetchClusterView(options.node, options.timeoutMs, options.ca);
  process.stdout.write(
    options.json
      ? `${JSON.stringify(view, null, 2)}\n`
      : formatClusterView(view, { color: shouldUseColor(process.stdout), source: options.node }),
  );
}

main().catch((err: unknown) => {
  const message = err instanceof StatusError ? err.message : err instanceof Error ? (err.stack ?? err.message) : err;
  process.stderr.write(`cluster:status: ${message}\n`);
  process.exit(1);
});
