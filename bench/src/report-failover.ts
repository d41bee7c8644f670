import {
  DEFAULT_BACKOFF,
  DEFAULT_PING_MS,
  DEFAULT_PING_TIMEOUT_MS,
  SILENCE_CHECKS_PER_TIMEOUT,
} from '@meshchat/client';
import {
  CLUSTER_SIZE,
  DRAIN_QUIET_MS,
  FAILOVER_AFTER_MS,
  FAILOVER_BEFORE_MS,
  FAILOVER_RATE,
  FANOUT_CLIENTS,
  FANOUT_PUBLISHERS,
  TARGETS,
  TEXT_BYTES,
} from './constants.js';
import { fixed, int, out, type SummaryLine, verdict } from './format.js';
import { percentile } from './stats.js';
import type { FailoverTrial, VictimClientTimes } from './workloads/client-failover.js';
import type { FailureSignal } from './workloads/failure-detection.js';

// The client-failover scenario (issue 5): a table of trials per signal, the figures of
// the failed nodes' clients pooled over the trials, and loss and duplicates of all clients.

export const FAILOVER_SIGNALS: readonly FailureSignal[] = ['SIGKILL', 'SIGSTOP'];

const labelOf = (signal: FailureSignal) => (signal === 'SIGKILL' ? 'kill -9' : 'SIGSTOP');
const targetOf = (signal: FailureSignal) =>
  signal === 'SIGKILL' ? TARGETS.failoverAfterKillP99Ms : TARGETS.failoverAfterStopP99Ms;

const COLUMNS: [string, number][] = [
  ['trial', 7],
  ['node', 9],
  ['load', 16],
  ['left p50/max', 15],
  ['welcomed p50/max', 18],
  ['receiving p50/max', 19],
  ['resumed p50/max', 17],
  ['sent', 8],
  ['acked', 8],
  ['lost', 7],
  ['dup', 6],
  ['reord', 6],
  ['unacked', 8],
  ['gen %cpu', 9],
  ['other %cpu', 11],
];

const row = (cells: string[]) => cells.map((cell, i) => cell.padStart((COLUMNS[i] as [string, number])[1])).join('');

const trialsOf = (n: number) => `${n} trial${n === 1 ? '' : 's'}`;

const msOrNever = (value: number) => (Number.isFinite(value) ? int(value) : 'never');

/** A figure over clients: null (did not happen) counts as never, which is above any bound. */
function pooled(values: readonly (number | null)[]): { p50: number; p99: number; max: number } {
  const numbers = values.map((v) => v ?? Number.POSITIVE_INFINITY);
  return { p50: percentile(numbers, 50), p99: percentile(numbers, 99), max: percentile(numbers, 100) };
}

const pair = (values: readonly (number | null)[]) => {
  const { p50, max } = pooled(values);
  return `${msOrNever(p50)}/${msOrNever(max)}`;
};

export function printFailoverHeader(trials: number): void {
  out(
    `Client failover: the room fan-out workload (${CLUSTER_SIZE} nodes, ${FANOUT_CLIENTS} clients spread evenly over them, all in one room, ` +
      `${FANOUT_PUBLISHERS} of them publishing ${TEXT_BYTES}-byte texts open-loop at ${int(FAILOVER_RATE)} msgs/s) on ChatClients ` +
      `(the library, with its outbox and cursors); fresh cluster per trial, ${trialsOf(trials)} per signal.`,
  );
  out(
    `  ChatClient defaults: ping every ${int(DEFAULT_PING_MS)} ms, leave a node silent for ${int(DEFAULT_PING_TIMEOUT_MS)} ms ` +
      `(checked every ${int(DEFAULT_PING_TIMEOUT_MS / SILENCE_CHECKS_PER_TIMEOUT)} ms), reconnect backoff ${DEFAULT_BACKOFF.initialMs} ms ` +
      `to ${DEFAULT_BACKOFF.maxMs / 1000} s with full jitter.`,
  );
  out(
    `  After ${FAILOVER_BEFORE_MS / 1000} s of publishing one node (trial t: the t-th) gets the signal and stays down; publishing goes on ` +
      `${FAILOVER_AFTER_MS / 1000} s, then the clients drain (until all ${FANOUT_CLIENTS} showed every message and every send settled, ` +
      `or ${DRAIN_QUIET_MS / 1000} s of quiet).`,
  );
  out(
    `  For the ${FANOUT_CLIENTS / CLUSTER_SIZE} clients of that node, ms from the signal: left = its \`disconnected\` event; ` +
      'welcomed = the first bytes from another node (its welcome); ' +
      'receiving = the first message it shows after leaving the node (caught up by the resume, or live): receiving again; ' +
      'resumed = its `connected` event (back in the room, catch-up complete, outbox resent).',
  );
  out(
    `  For all ${FANOUT_CLIENTS} clients: lost = (client, acked message) pairs never shown; dup = extra showings of any message; ` +
      'reord = shown after a later message of the same publisher; unacked = sends neither acked nor rejected at the end.',
  );
}

export function printFailoverSignal(signal: FailureSignal): void {
  out(`  ${labelOf(signal)}:`);
  out(row(COLUMNS.map(([name]) => name)));
}

export function printFailoverTrial(trial: FailoverTrial, index: number): void {
  const { result } = trial;
  out(
    row([
      String(index + 1),
      trial.victim,
      trial.loadAverage,
      pair(trial.victims.map((v) => v.leftMs)),
      pair(trial.victims.map((v) => v.welcomedMs)),
      pair(trial.victims.map((v) => v.receivingMs)),
      pair(trial.victims.map((v) => v.resumedMs)),
      int(result.sent),
      int(result.acked),
      int(result.lost),
      int(result.duplicated),
      int(result.reordered),
      int(result.unsettled),
      fixed(trial.generatorCpuPercent, 0),
      fixed(trial.otherCpuPercent, 0),
    ]),
  );
  const count = (counts: Record<string, number>, what: string) =>
    Object.entries(counts).map(([code, n]) => `${int(n)} x ${code} ${what}`);
  const resumedOn = new Map<string, number>();
  for (const v of trial.victims) if (v.resumedOn) resumedOn.set(v.resumedOn, (resumedOn.get(v.resumedOn) ?? 0) + 1);
  const notes = [
    trial.exitedMs === null ? '' : `${trial.victim} exited ${int(trial.exitedMs)} ms after the signal`,
    `resumed on ${[...resumedOn].map(([node, n]) => `${node} ${n}`).join(', ') || 'none'}`,
    `${int(trial.victims.reduce((sum, v) => sum + v.caughtUp, 0))} messages caught up by the resumes`,
    ...count(result.rejected, 'sends rejected'),
    ...count(result.clientErrors, 'client errors'),
    trial.othersDisconnected > 0 ? `${trial.othersDisconnected} clients of other nodes disconnected` : '',
    trial.repeatedFailovers > 0 ? `${trial.repeatedFailovers} clients failed over more than once` : '',
    result.invalid > 0 ? `${int(result.invalid)} invalid texts` : '',
    result.skipped > 0
      ? `generator fell behind: ${int(result.skipped)} sends skipped, stalled up to ${int(result.maxTickGapMs)} ms`
      : '',
    ...trial.crashed,
  ].filter((note) => note.length > 0);
  out(`    ^ ${notes.join('; ')}`);
}

export function printFailoverFailure(error: Error, index: number): void {
  out(`${row([String(index + 1)])}  failed: ${error.message}`);
}

interface SignalFigures {
  trials: number;
  clients: number;
  receiving: { p50: number; p99: number; max: number };
  left: { p50: number; p99: number; max: number };
  welcomed: { p50: number; p99: number; max: number };
  resumed: { p50: number; p99: number; max: number };
  lost: number;
  duplicated: number;
  reordered: number;
  unsettled: number;
}

function figuresOf(trials: readonly FailoverTrial[]): SignalFigures {
  const victims: VictimClientTimes[] = trials.flatMap((t) => t.victims);
  const sum = (of: (t: FailoverTrial) => number) => trials.reduce((total, t) => total + of(t), 0);
  return {
    trials: trials.length,
    clients: victims.length,
    receiving: pooled(victims.map((v) => v.receivingMs)),
    left: pooled(victims.map((v) => v.leftMs)),
    welcomed: pooled(victims.map((v) => v.welcomedMs)),
    resumed: pooled(victims.map((v) => v.resumedMs)),
    lost: sum((t) => t.result.lost),
    duplicated: sum((t) => t.result.duplicated),
    reordered: sum((t) => t.result.reordered),
    unsettled: sum((t) => t.result.unsettled),
  };
}

const percentiles = ({ p50, p99, max }: SignalFigures['receiving']) =>
  `p50 ${msOrNever(p50)} ms, p99 ${msOrNever(p99)} ms, max ${msOrNever(max)} ms`;

export function printFailoverSummary(signal: FailureSignal, trials: readonly FailoverTrial[]): void {
  if (trials.length === 0) return;
  const f = figuresOf(trials);
  const target = targetOf(signal);
  out(
    `  ${labelOf(signal)}, ${f.clients} clients of the failed node over ${trialsOf(f.trials)}: receiving again ${percentiles(f.receiving)} ` +
      `(target p99 < ${int(target)} ms: ${verdict(f.receiving.p99 < target)})`,
  );
  out(`    left ${percentiles(f.left)}; welcomed ${percentiles(f.welcomed)}; resumed ${percentiles(f.resumed)}`);
  out(
    `    all ${FANOUT_CLIENTS} clients: lost ${int(f.lost)}, duplicated ${int(f.duplicated)} (target 0 and 0: ` +
      `${verdict(f.lost === 0 && f.duplicated === 0)}); reordered ${int(f.reordered)}, unacked ${int(f.unsettled)}`,
  );
}

export function failoverSummaryLines(trials: readonly FailoverTrial[] | undefined): SummaryLine[] {
  if (!trials) return [];
  const lines: SummaryLine[] = [];
  for (const signal of FAILOVER_SIGNALS) {
    const ofSignal = trials.filter((t) => t.signal === signal);
    const target = targetOf(signal);
    if (ofSignal.length === 0) {
      lines.push([`failover after ${labelOf(signal)}: no trial completed`, `< ${int(target)} ms`, verdict(false)]);
      continue;
    }
    const f = figuresOf(ofSignal);
    lines.push([
      `failover after ${labelOf(signal)}: receiving again p99 ${msOrNever(f.receiving.p99)} ms (${f.clients} clients, ${trialsOf(f.trials)})`,
      `< ${int(target)} ms`,
      verdict(f.receiving.p99 < target),
    ]);
    lines.push([
      `failover after ${labelOf(signal)}: lost ${int(f.lost)}, duplicated ${int(f.duplicated)} (all ${FANOUT_CLIENTS} clients)`,
      '0 and 0',
      verdict(f.lost === 0 && f.duplicated === 0),
    ]);
  }
  return lines;
}
