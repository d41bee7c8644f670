import {
  CATCHUP_POLL_MS,
  CLUSTER_SIZE,
  FILL_PUBLISHERS,
  FILL_WINDOW,
  HISTORY_FILL_BATCH,
  HISTORY_PAGE,
  HISTORY_WARMUP_QUERIES,
  TARGETS,
  TEXT_BYTES,
} from './constants.js';
import type { DiskUsage } from './disk-usage.js';
import { fixed, int, out, type SummaryLine, size, verdict } from './format.js';
import type { AckedPublishResult } from './load/acked-publisher.js';
import type { LatencySummary } from './stats.js';
import type { CatchupResult } from './workloads/catchup.js';
import type { HistoryResult } from './workloads/history-query.js';
import type { StoreSizeResult } from './workloads/store-size.js';

// The durable-history scenarios (issue 4): catch-up, history queries, store size.

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

// More than a few % means the figure was measured on a busy machine.
const printOtherCpu = (percent: number) =>
  out(`  other %cpu meanwhile (everything but the nodes and the bench): ${fixed(percent, 0)}% of one core`);

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
      `(${fixed(result.sentByPeers / result.caughtUp, 2)} per message caught up), using ${fixed(result.peersCpuSeconds, 1)} s of CPU ` +
      `(${fixed((result.peersCpuSeconds * 1e6) / result.caughtUp, 1)} us per message)`,
  );
  printOtherCpu(result.otherCpuPercent);
  out();
}

export function printHistory(result: HistoryResult): void {
  out(
    `History queries: one node (LMDB) started on a store holding one room of ${int(result.messages)} ${TEXT_BYTES}-byte ` +
      `messages (written with the node's store class before it started, in ${fixed(result.fillSeconds, 1)} s); one client ` +
      `asks, one request at a time, for the newest ${HISTORY_PAGE}, after ${int(HISTORY_WARMUP_QUERIES)} unmeasured ` +
      'requests of each kind. Latency: request written -> last byte of the reply (its decoding left out).',
  );
  // The best case for the store: one stream, keys in order, no network, no decoding.
  out(
    `  store ingest while filling: ${int(result.messages / result.fillSeconds)} msgs/s ` +
      `(LmdbStore.appendBatch, ${int(HISTORY_FILL_BATCH)} messages a call, encoding included)`,
  );
  out(`  history (limit ${HISTORY_PAGE}): ${latency(result.history)}`);
  out(`  join with ${HISTORY_PAGE} messages of history (then leave, untimed): ${latency(result.join)}`);
  out(
    `  replies checked: ${result.wrong === 0 ? 'every one' : `${int(result.wrong)} NOT`} the room's newest ${HISTORY_PAGE} messages, oldest first`,
  );
  printOtherCpu(result.otherCpuPercent);
  out(`  store: ${describeSize(result.store, result.messages)}`);
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

const latency = (summary: LatencySummary) =>
  `p50 ${fixed(summary.p50Ms, 3)} ms, p99 ${fixed(summary.p99Ms, 3)} ms, max ${fixed(summary.maxMs, 2)} ms ` +
  `(${int(summary.count)} requests)`;

const describeSize = (usage: DiskUsage, messages: number) =>
  `${size(usage.bytes)} in ${usage.files} files (${size(usage.allocatedBytes)} allocated): ` +
  `${int(usage.bytes / messages)} bytes per message (${int(usage.allocatedBytes / messages)} allocated)`;

/** Bytes per message of the largest store: the nodes hold the same messages. */
function storeBytesPerMessage(result: StoreSizeResult): number {
  return Math.max(...result.nodes.map((n) => n.full.bytes)) / result.messages;
}

export function historySummaryLines(results: {
  catchup?: CatchupResult;
  history?: HistoryResult;
  storesize?: StoreSizeResult;
}): SummaryLine[] {
  const lines: SummaryLine[] = [];
  const { catchup, history, storesize } = results;
  if (catchup) {
    lines.push([
      `catch-up: ${int(catchup.caughtUp)} messages in ${fixed(catchup.seconds, 2)} s, ${int(catchup.perSecond)} msgs/s` +
        (catchup.isConverged ? '' : ' (did not converge)'),
      `>= ${int(TARGETS.catchupPerSec)} msgs/s`,
      verdict(catchup.isConverged && catchup.perSecond >= TARGETS.catchupPerSec),
    ]);
  }
  if (history) {
    lines.push([
      `store ingest, in-process best case: ${int(history.messages / history.fillSeconds)} msgs/s (a ceiling for catch-up)`,
      'none',
      '-',
    ]);
    lines.push([
      `history: last ${HISTORY_PAGE} of ${int(history.messages)}, p99 ${fixed(history.history.p99Ms, 3)} ms` +
        (history.wrong > 0 ? ` (${int(history.wrong)} wrong replies)` : ''),
      `< ${TARGETS.historyP99Ms} ms`,
      verdict(history.wrong === 0 && history.history.p99Ms < TARGETS.historyP99Ms),
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
