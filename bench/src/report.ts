import { CLIENT_PING_MS, CLUSTER_SIZE, DETECTION_POLL_MS, TARGETS } from './constants.js';
import { fixed, int, kib, mib, ms, out, type SummaryLine, verdict } from './format.js';
import type { BenchNodeSettings } from './node-settings.js';
import type { ProfileSummary } from './profile-summary.js';
import { failoverSummaryLines } from './report-failover.js';
import { historySummaryLines } from './report-history.js';
import { median } from './stats.js';
import type { MachineInfo } from './system.js';
import type { CatchupResult } from './workloads/catchup.js';
import type { FailoverTrial } from './workloads/client-failover.js';
import type { DurableComparison } from './workloads/durable-vs-memory.js';
import type { DetectionTrial } from './workloads/failure-detection.js';
import type { HistoryResult } from './workloads/history-query.js';
import type { IdleMemoryResult } from './workloads/idle-memory.js';
import { type FanoutStep, highestClean } from './workloads/room-fanout.js';
import type { StoreSizeResult } from './workloads/store-size.js';

// Everything the bench prints: each figure beside the workload that produced it, so a
// number read alone can still be compared, and a summary against the targets.

export interface RunHeader {
  startedAt: Date;
  machine: MachineInfo;
  loadAverage: string;
  settings: BenchNodeSettings;
}

export function printHeader({ startedAt, machine, loadAverage, settings }: RunHeader): void {
  out(`meshchat bench, ${startedAt.toISOString()}`);
  out(`machine: ${machine.cpuCount} x ${machine.cpuModel}, Node ${machine.nodeVersion}; load average ${loadAverage}`);
  out(`nodes: ${describeSettings(settings)}`);
  out();
}

function describeSettings({ heartbeat, limits, overrides }: BenchNodeSettings): string {
  const timing = `heartbeat ${heartbeat.heartbeatMs} ms, suspect after ${heartbeat.suspectAfterMs} ms, dead after ${heartbeat.deadAfterMs} ms`;
  return `${timing}; per-client rate limit raised to ${int(limits.ratePerSec ?? 0)}/s; maxOutboundBytes ${int(limits.maxOutboundBytes ?? 0)}; ${overrides.length > 0 ? `--set ${overrides.join(' ')}; ` : ''}the rest as in config/node-a.json or the node's defaults`;
}

export function printDetection(trials: DetectionTrial[], settings: BenchNodeSettings): void {
  const { heartbeatMs, suspectAfterMs, deadAfterMs } = settings.heartbeat;
  out(
    `Failure detection: ${CLUSTER_SIZE} nodes (heartbeat ${heartbeatMs} ms, suspect after ${suspectAfterMs} ms, dead after ${deadAfterMs} ms), ` +
      `one signalled; time until both others show it dead in GET /cluster, polled every ${DETECTION_POLL_MS} ms; fresh cluster per trial.`,
  );
  for (const signal of ['SIGKILL', 'SIGSTOP'] as const) {
    const ofSignal = trials.filter((t) => t.signal === signal);
    if (ofSignal.length === 0) continue;
    out(`  ${labelOf(signal)}: median ${ms(detectionMedian(ofSignal))}`);
    ofSignal.forEach((trial, i) => {
      const bySurvivor = Object.entries(trial.bySurvivor)
        .map(([nodeId, t]) => `${nodeId} ${ms(t)}`)
        .join(', ');
      out(`    trial ${i + 1}: ${ms(trial.detectedMs)} (${bySurvivor})`);
    });
  }
  out();
}

const labelOf = (signal: DetectionTrial['signal']) => (signal === 'SIGKILL' ? 'kill -9' : 'SIGSTOP');

function detectionMedian(trials: DetectionTrial[]): number | null {
  if (trials.some((t) => t.detectedMs === null)) return null;
  return median(trials.map((t) => t.detectedMs as number));
}

export function printIdle(result: IdleMemoryResult): void {
  out(
    `Idle connections: ${int(result.clients)} raw clients on one node of ${CLUSTER_SIZE}; each sends hello, then a ping every ` +
      `${CLIENT_PING_MS / 1000} s and nothing else. RSS (VmRSS) of that node before and after.`,
  );
  out(
    `  connected ${int(result.connected)} (${int(result.failed)} failed${result.firstError ? `: ${result.firstError}` : ''}) ` +
      `in ${fixed(result.connectSeconds, 1)} s; the node counts ${int(result.sessionsOnNode)} sessions`,
  );
  out(
    `  RSS ${mib(result.rssBeforeBytes)} -> ${mib(result.rssAfterBytes)}: ${kib(result.bytesPerClient)} per idle connection`,
  );
  out();
}

export function printProfile(summary: ProfileSummary, dir: string): void {
  out(
    `CPU profile of the nodes (node --cpu-prof, ${summary.files} files in ${dir}): ` +
      `${int(summary.busyMs)} ms busy, ${int(summary.idleMs)} ms idle`,
  );
  out('  self time by function:');
  for (const entry of summary.functions) out(`  ${fixed(entry.percent, 1).padStart(6)}%  ${entry.label}`);
  out('  self time by module:');
  for (const entry of summary.modules) out(`  ${fixed(entry.percent, 1).padStart(6)}%  ${entry.label}`);
  out();
}

export interface RunResults {
  header: RunHeader;
  loadAverageAtEnd: string;
  fanout?: FanoutStep[];
  detection?: DetectionTrial[];
  failover?: FailoverTrial[];
  idle?: IdleMemoryResult;
  catchup?: CatchupResult;
  history?: HistoryResult;
  storesize?: StoreSizeResult;
  durable?: DurableComparison;
}

export function printSummary(results: RunResults): void {
  const { header } = results;
  out('== Summary ==');
  out(
    `  ${header.startedAt.toISOString()}; ${header.machine.cpuCount} x ${header.machine.cpuModel}; Node ${header.machine.nodeVersion}`,
  );
  out(`  load average at start ${header.loadAverage}, at end ${results.loadAverageAtEnd}`);
  const lines: SummaryLine[] = [];
  if (results.fanout) {
    const clean = highestClean(results.fanout);
    lines.push([
      clean
        ? `fan-out: highest clean rate ${int(clean.rate)} msgs/s (${int(clean.deliveredPerSec)} deliveries/s, p99 ${fixed(clean.result.latency.p99Ms, 2)} ms)`
        : 'fan-out: no rate was clean',
      `>= ${int(TARGETS.cleanRate)} msgs/s`,
      verdict((clean?.rate ?? 0) >= TARGETS.cleanRate),
    ]);
    const at4000 = results.fanout.find((s) => s.rate === 4000);
    if (at4000) {
      lines.push([
        `fan-out: p99 at 4,000 msgs/s ${fixed(at4000.result.latency.p99Ms, 2)} ms`,
        `< ${TARGETS.p99At4000Ms} ms`,
        verdict(at4000.result.latency.p99Ms < TARGETS.p99At4000Ms),
      ]);
    }
    const costed = clean ?? results.fanout[results.fanout.length - 1];
    if (costed) {
      lines.push([
        `fan-out: node CPU per delivery ${fixed(costed.cpuPerDeliveryUs, 2)} us (at ${int(costed.rate)} msgs/s)`,
        `<= ${TARGETS.cpuPerDeliveryUs} us`,
        verdict(costed.cpuPerDeliveryUs <= TARGETS.cpuPerDeliveryUs),
      ]);
    }
  }
  if (results.detection) {
    const crash = detectionMedian(results.detection.filter((t) => t.signal === 'SIGKILL'));
    const hung = detectionMedian(results.detection.filter((t) => t.signal === 'SIGSTOP'));
    // "At once" (design.md, guarantee 5): from the socket close, not from the silence timer.
    const { suspectAfterMs = 0 } = header.settings.heartbeat;
    lines.push([
      `failure detection: kill -9 median ${ms(crash)}`,
      `< ${int(suspectAfterMs)} ms`,
      verdict(crash !== null && crash < suspectAfterMs),
    ]);
    lines.push([
      `failure detection: SIGSTOP median ${ms(hung)}`,
      `< ${int(TARGETS.hungDetectionMs)} ms`,
      verdict(hung !== null && hung < TARGETS.hungDetectionMs),
    ]);
  }
  lines.push(...failoverSummaryLines(results.failover));
  if (results.idle) {
    lines.push([
      `idle connections: ${kib(results.idle.bytesPerClient)} RSS each (${int(results.idle.connected)} on one node)`,
      `< ${kib(TARGETS.idleBytesPerClient)}`,
      verdict(results.idle.bytesPerClient < TARGETS.idleBytesPerClient),
    ]);
  }
  lines.push(...historySummaryLines(results));
  if (results.durable) {
    const { cleanRate, ratio } = results.durable;
    lines.push([
      `durable: highest clean rate LMDB ${int(cleanRate.lmdb)}, memory ${int(cleanRate.memory)} msgs/s (${fixed(ratio * 100, 0)}%)`,
      `>= ${fixed(TARGETS.durableShareOfMemory * 100, 0)}% of memory`,
      verdict(ratio >= TARGETS.durableShareOfMemory),
    ]);
  }
  const width = Math.max(...lines.map(([figure]) => figure.length));
  for (const [figure, target, met] of lines) out(`  ${figure.padEnd(width)}  target ${target.padEnd(16)} ${met}`);
}
