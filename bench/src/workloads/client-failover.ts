import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { BenchCluster, type BenchNode } from '../cluster.js';
import {
  CLUSTER_SIZE,
  DRAIN_MAX_MS,
  FAILOVER_AFTER_MS,
  FAILOVER_BEFORE_MS,
  FAILOVER_RATE,
  FANOUT_CLIENTS,
  FANOUT_PUBLISHERS,
  FANOUT_ROOM,
} from '../constants.js';
import { type FailoverResult, GeneratorProcess, wallClockMs } from '../load/ipc.js';
import type { BenchNodeSettings } from '../node-settings.js';
import { FAILOVER_GENERATOR } from '../paths.js';
import { cpuSeconds, loadAverage, otherCpuMeter } from '../system.js';
import type { FailureSignal } from './failure-detection.js';

// Connecting and joining 30 clients takes well under a second; this bounds a generator that hangs.
const SETUP_TIMEOUT_MS = 30_000;
const GENERATOR_EXIT_GRACE_MS = 3000;

/** One client of the failed node, in ms from the signal; null when it did not happen. */
export interface VictimClientTimes {
  /** Until it gave the node up (its `disconnected` event). */
  leftMs: number | null;
  /** Until the first bytes from a node after that (its welcome): reconnected. */
  welcomedMs: number | null;
  /** Until it was back in the room on another node, outbox resent (its `connected` event). */
  resumedMs: number | null;
  /** Until the first message it showed after leaving the node: receiving again. */
  receivingMs: number | null;
  resumedOn: string | null;
  caughtUp: number;
}

export interface FailoverTrial {
  signal: FailureSignal;
  victim: string;
  /** /proc/loadavg when the trial started. */
  loadAverage: string;
  result: FailoverResult;
  victims: VictimClientTimes[];
  /** Clients of the other nodes that lost their node after the signal: should be none. */
  othersDisconnected: number;
  /** Clients of the failed node that lost a connection more than once after the signal. */
  repeatedFailovers: number;
  /**
   * After kill -9: ms from the signal until the bench saw the process exit (its sockets
   * are closed by then), null after SIGSTOP. The kernel tears a process down before its
   * clients can see the close, so this bounds how fast they can leave it.
   */
  exitedMs: number | null;
  generatorCpuPercent: number;
  otherCpuPercent: number;
  crashed: string[];
}

/**
 * `trials` trials of one fault, each on a fresh cluster: the room fan-out workload on
 * ChatClients at FAILOVER_RATE, and FAILOVER_BEFORE_MS after publishing starts one node
 * (trial t: node t mod 3, so each gets its turn) is sent `signal`; it stays down. A
 * trial that fails (a node or generator failed to start) is reported and the rest run.
 */
export async function runFailoverTrials(
  signal: FailureSignal,
  trials: number,
  settings: BenchNodeSettings,
  onTrial: (trial: FailoverTrial) => void,
  onTrialFailed: (error: Error) => void,
): Promise<FailoverTrial[]> {
  const results: FailoverTrial[] = [];
  for (let trial = 0; trial < trials; trial++) {
    try {
      const result = await runTrial(signal, trial, settings);
      results.push(result);
      onTrial(result);
    } catch (err) {
      onTrialFailed(err instanceof Error ? err : new Error(String(err)));
    }
  }
  return results;
}

async function runTrial(signal: FailureSignal, trial: number, settings: BenchNodeSettings): Promise<FailoverTrial> {
  const cluster = await BenchCluster.start({ size: CLUSTER_SIZE, settings });
  let generator: GeneratorProcess | undefined;
  try {
    const durationMs = FAILOVER_BEFORE_MS + FAILOVER_AFTER_MS;
    generator = GeneratorProcess.start(FAILOVER_GENERATOR, {
      servers: cluster.clientAddresses,
      room: FANOUT_ROOM,
      clients: FANOUT_CLIENTS,
      publishers: FANOUT_PUBLISHERS,
      rate: FAILOVER_RATE,
      durationMs,
    });
    await generator.next('ready', SETUP_TIMEOUT_MS);
    const victim = cluster.nodes[trial % cluster.nodes.length] as BenchNode;
    const loadAtStart = loadAverage();
    const otherCpu = otherCpuMeter([...cluster.nodes.map((n) => n.pid), generator.pid, process.pid]);
    const generatorCpuBefore = cpuSeconds(generator.pid);
    const startedAt = performance.now();
    generator.send({ type: 'start' });
    await sleep(FAILOVER_BEFORE_MS);
    // The victim's CPU up to now stays the nodes' (see otherCpuMeter).
    otherCpu();
    const signalledAt = wallClockMs();
    victim.signal(signal);
    let exitedMs: number | null = null;
    void victim.exited.then(() => {
      exitedMs = wallClockMs() - signalledAt;
    });
    const { result } = await generator.next('failover-result', durationMs + DRAIN_MAX_MS + SETUP_TIMEOUT_MS);
    const wallSeconds = (performance.now() - startedAt) / 1000;
    const generatorCpuPercent = ((cpuSeconds(generator.pid) - generatorCpuBefore) / wallSeconds) * 100;
    const otherCpuPercent = otherCpu();
    return {
      signal,
      victim: victim.nodeId,
      loadAverage: loadAtStart,
      result,
      ...clientTimes(result, victim.nodeId, signalledAt),
      exitedMs,
      generatorCpuPercent,
      otherCpuPercent,
      crashed: cluster.crashed(),
    };
  } finally {
    await generator?.stop(GENERATOR_EXIT_GRACE_MS);
    await cluster.stop();
  }
}

function clientTimes(
  result: FailoverResult,
  victim: string,
  signalledAt: number,
): Pick<FailoverTrial, 'victims' | 'othersDisconnected' | 'repeatedFailovers'> {
  const since = (at: number | undefined) => (at === undefined ? null : at - signalledAt);
  const victims: VictimClientTimes[] = [];
  let othersDisconnected = 0;
  let repeatedFailovers = 0;
  for (const client of result.clients) {
    const outages = client.outages.filter((o) => o.lostAt >= signalledAt);
    if (client.startNodeId !== victim) {
      if (outages.length > 0) othersDisconnected++;
      continue;
    }
    if (outages.length > 1) repeatedFailovers++;
    const first = outages[0];
    victims.push({
      leftMs: since(first?.lostAt),
      welcomedMs: since(first?.welcomedAt),
      resumedMs: since(first?.resumedAt),
      receivingMs: since(first?.receivingAt),
      resumedOn: first?.resumedOn ?? null,
      caughtUp: first?.caughtUp ?? 0,
    });
  }
  return { victims, othersDisconnected, repeatedFailovers };
}
