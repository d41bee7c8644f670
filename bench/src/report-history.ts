import { CATCHUP_POLL_MS, CLUSTER_SIZE, FILL_PUBLISHERS, FILL_WINDOW, TARGETS, TEXT_BYTES } from './constants.js';
import type { DiskUsage } from './disk-usage.js';
import { fixed, int, out, type SummaryLine, size, verdict } from './format.js';
import type { AckedPublishResult } from './load/acked-publisher.js';
import type { CatchupResult } from './workloads/catchup.js';
import type { StoreSizeResult } from './workloads/store-size.js';

// The durable-history scenarios (issue 4): catch-up, store size.

const FILL_WORKLOAD =
  `${FILL_PUBLISHERS} clients, one room each, spread evenly over the nodes, ${FILL_WINDOW} sends unacked per client ` +
  'and one more per ack: as fast as the acks allow';

function printFill(fill: AckedPublishResult): void {
  const errors = Object.entries(fill.errorCodes).map(([code, n]) => `${int(n)} x ${code}`);
  out(
    `  fill: ${int(fill.sent)} sent, ${int(fill.acked)} acked in ${fixed(fill.seconds, 1)} s ` +
      `(${int(fill.acked / fill.seconds)} msgs/s)${errors.length > 0 ? `; errors: ${errors.join(', ')}` : ''}`,
  );
}

export function printCatchup(result: CatchupResult): void {
  out(
    `Catch-up: ${CLUSTER_SIZE} nodes; one is stopped (SIGTERM), ${int(result.fill.sent)} ${TEXT_BYTES}-byte messages go through the ` +
      `other two (${FILL_WORKLOAD}), then the node restarts on its data directory. Its GET /cluster is polled every ` +
      `${CATCHUP_POLL_MS} ms until its room vectors equal the survivors'; time from its "node listening" line.`,
  );
  printFill(result.fill);
  const first = result.firstMessageSeconds === null ? 'none' : `${fixed(result.firstMessageSeconds, 2)} s`;
  out(`  restart: listening ${fixed(result.startSeconds, 2)} s after spawn; first message stored after ${first}`);
  const perMessageUs = result.caughtUp > 0 ? (result.cpuSeconds * 1e6) / result.caughtUp : Number.NaN;
  out(
    `  ${result.isConverged ? 'caught up' : 'NOT caught up:'} ${int(result.caughtUp)} of ${int(result.missed)} missed messages ` +
      `in ${fixed(result.seconds, 2)} s: ${int(result.perSecond)} msgs/s; node CPU ${fixed(result.cpuSeconds, 1)} s ` +
      `(${fixed(perMessageUs, 1)} us per message)`,
  );
  out(
    `  the survivors' anti-entropy sent ${int(result.sentByPeers)} messages meanwhile ` +
      `(${fixed(result.sentByPeers / result.caughtUp, 2)} per message caught up)`,
  );
  out();
}

export function printStoreSize(result: StoreSizeResult): void {
  out(
    `Store size: ${CLUSTER_SIZE} nodes (LMDB); ${int(result.fill.sent)} ${TEXT_BYTES}-byte messages through their clients ` +
      `(${FILL_WORKLOAD}) until every node holds all; then the nodes stop and their data directories are measured: ` +
      'file sizes, and the blocks allocated to them (as du counts them).',
  );
  printFill(result.fill);
  for (const node of result.nodes) {
    out(
      `  ${node.nodeId}: empty ${size(node.empty.bytes)}; with ${int(result.messages)} messages ${describeSize(node.full, result.messages)}`,
    );
  }
  out();
}

const describeSize = (usage: DiskUsage, messages: number) =>
  `${size(usage.bytes)} in ${usage.files} files (${size(usage.allocatedBytes)} allocated): ` +
  `${int(usage.bytes / messages)} bytes per message (${int(usage.allocatedBytes / messages)} allocated)`;

/** Bytes per message of the largest store: the nodes hold the same messages. */
function storeBytesPerMessage(result: StoreSizeResult): number {
  return Math.max(...result.nodes.map((n) => n.full.bytes)) / result.messages;
}

export function historySummaryLines(results: { catchup?: CatchupResult; storesize?: StoreSizeResult }): SummaryLine[] {
  const lines: SummaryLine[] = [];
  const { catchup, storesize } = results;
  if (catchup) {
    lines.push([
      `catch-up: ${int(catchup.caughtUp)} messages in ${fixed(catchup.seconds, 2)} s, ${int(catchup.perSecond)} msgs/s` +
        (catchup.isConverged ? '' : ' (did not converge)'),
      `>= ${int(TARGETS.catchupPerSec)} msgs/s`,
      verdict(catchup.isConverged && catchup.perSecond >= TARGETS.catchupPerSec),
    ]);
  }
  if (storesize) {
    lines.push([
      `store size: ${int(storeBytesPerMessage(storesize))} bytes per ${TEXT_BYTES}-byte message (LMDB)`,
      'none',
      '-',
    ]);
  }
  return lines;
}
