import {
  CLEAN_MIN_ACHIEVED,
  CLEAN_P99_MS,
  CLUSTER_SIZE,
  DURABLE_STOP_AFTER_UNCLEAN,
  FANOUT_CLIENTS,
  FANOUT_PUBLISHERS,
  TEXT_BYTES,
  WARMUP_MAX_RATE,
  WARMUP_MS,
} from './constants.js';
import { fixed, int, out } from './format.js';
import { COMPARED_STORES, type ComparedStore, type DurableComparison } from './workloads/durable-vs-memory.js';
import type { FanoutStep } from './workloads/room-fanout.js';

// The room fan-out table: one row per rate, each beside the workload; and the same
// table twice for the durable scenario, once per store.

const FANOUT_COLUMNS: [string, number][] = [
  ['target/s', 9],
  ['sent/s', 9],
  ['delivered/s', 12],
  ['p50 ms', 8],
  ['p99 ms', 8],
  ['max ms', 9],
  ['lost', 11],
  ['dup', 6],
  ['reord', 6],
  ['node us/deliv', 14],
  ['nodes %cpu', 11],
  ['%sys', 6],
  ['gen %cpu', 9],
  ['other %cpu', 11],
  ['clean', 7],
];

const row = (cells: string[]) =>
  cells.map((cell, i) => cell.padStart((FANOUT_COLUMNS[i] as [string, number])[1])).join('');

export function printFanoutHeader(durationS: number): void {
  printFanoutWorkload(durationS);
  printFanoutColumns();
}

export function printFanoutWorkload(durationS: number): void {
  out(
    `Room fan-out: ${CLUSTER_SIZE} nodes, ${FANOUT_CLIENTS} clients spread evenly over them, all in one room; ` +
      `${FANOUT_PUBLISHERS} of them publish ${TEXT_BYTES}-byte texts open-loop at the target aggregate rate for ${durationS} s; fresh cluster per rate, ` +
      `after a ${WARMUP_MS / 1000} s warm-up at up to ${int(WARMUP_MAX_RATE)} msgs/s that is not measured.`,
  );
  out(
    '  latency: send to receipt, same clock; lost/dup/reord: per receiver and message, by the id in each text ' +
      '(sampled against clientMsgId); node us/deliv: CPU of all nodes / message frames delivered to clients.',
  );
  out(
    '  nodes %cpu: all nodes together, in % of one core (200% = both cores); %sys: share of it in the kernel; gen %cpu: the load generator; ' +
      'other %cpu: everything else on the machine meanwhile (more than a few % means the step was disturbed).',
  );
  out(
    `  clean: p99 <= ${CLEAN_P99_MS} ms, nothing lost, duplicated or reordered, no disconnect, sent >= ${CLEAN_MIN_ACHIEVED * 100}% of target.`,
  );
}

export function printFanoutColumns(): void {
  out(row(FANOUT_COLUMNS.map(([name]) => name)));
}

export function printFanoutStep(step: FanoutStep): void {
  const { result } = step;
  out(
    row([
      int(step.rate),
      int(step.publishRate),
      int(step.deliveredPerSec),
      fixed(result.latency.p50Ms, 2),
      fixed(result.latency.p99Ms, 2),
      fixed(result.latency.maxMs, 1),
      int(result.lost),
      int(result.duplicated),
      int(result.reordered),
      fixed(step.cpuPerDeliveryUs, 2),
      fixed(step.nodeCpuPercent, 0),
      fixed(step.nodeSystemShare * 100, 0),
      fixed(step.generatorCpuPercent, 0),
      fixed(step.otherCpuPercent, 0),
      step.isClean ? 'yes' : 'no',
    ]),
  );
  const notes = [
    ...Object.entries(result.errorCodes).map(([code, n]) => `${int(n)} x ${code}`),
    result.disconnected > 0 ? `${result.disconnected} clients disconnected` : '',
    result.invalid > 0 ? `${int(result.invalid)} invalid frames` : '',
    result.acked < result.sent ? `${int(result.sent - result.acked)} not acked` : '',
    result.skipped > 0
      ? `generator fell behind: ${int(result.skipped)} sends skipped, stalled up to ${int(result.maxTickGapMs)} ms`
      : '',
    ...step.crashed,
  ].filter((note) => note.length > 0);
  if (notes.length > 0) out(`    ^ ${notes.join('; ')}`);
  const { commits } = step;
  if (commits) {
    out(
      `    ^ store commits: ${int(commits.perSecondPerNode)}/s per node, ${int(commits.messagesPerCommit)} messages each; ` +
        `${fixed(commits.meanWaitMs, 1)} ms queued, then ${fixed(commits.meanCommitMs, 1)} ms to durable (means)`,
    );
  }
}

export function printFanoutFailure(rate: number, error: Error): void {
  out(`${row([int(rate)])}  failed: ${error.message}`);
}

export function printDurableHeader(durationS: number): void {
  out(
    "Durable against memory store: the room fan-out below, run with the LMDB store (fsync'd group commits) and with the " +
      `memory store (--set store=memory), each from the lowest rate up until ${DURABLE_STOP_AFTER_UNCLEAN} rates in a row are not clean.`,
  );
  printFanoutWorkload(durationS);
}

export function printDurableStore(store: ComparedStore): void {
  out(`  store=${store}:`);
  printFanoutColumns();
}

export function printDurableResult({ steps, cleanRate, ratio }: DurableComparison): void {
  const rates = COMPARED_STORES.map(
    (store) => `${store} ${cleanRate[store] > 0 ? `${int(cleanRate[store])} msgs/s` : 'none'}`,
  );
  out(`  highest clean rate: ${rates.join(', ')}; durable at ${fixed(ratio * 100, 0)}% of memory`);
  // Less disturbed by other work than cleanliness: what each delivery cost the nodes.
  const costs = steps.lmdb.flatMap((durable) => {
    const memory = steps.memory.find((s) => s.rate === durable.rate);
    if (!memory) return [];
    const times = durable.cpuPerDeliveryUs / memory.cpuPerDeliveryUs;
    return [
      `${int(durable.rate)}: ${fixed(durable.cpuPerDeliveryUs, 2)} / ${fixed(memory.cpuPerDeliveryUs, 2)} (${fixed(times, 2)}x)`,
    ];
  });
  if (costs.length > 0) out(`  node us/deliv, lmdb / memory, at each rate both ran: ${costs.join('; ')}`);
  out();
}
