import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { BenchCluster, type BenchNode, fetchClusterView } from '../cluster.js';
import { CLUSTER_SIZE, DETECTION_POLL_MS, DETECTION_TIMEOUT_MS } from '../constants.js';
import type { BenchNodeSettings } from '../node-settings.js';

export type FailureSignal = 'SIGKILL' | 'SIGSTOP';

export interface DetectionTrial {
  signal: FailureSignal;
  /** Per survivor: ms from the signal until its /cluster showed the victim dead; null if it never did. */
  bySurvivor: Record<string, number | null>;
  /** Until every survivor showed it dead: the figure reported. */
  detectedMs: number | null;
}

// Heartbeats run a while before the fault, so the detector starts from its steady state.
const STEADY_MS = 1000;

/**
 * kill -9 (a crash: the peers' sockets close) or SIGSTOP (a hung node: sockets stay
 * open, only silence tells) of one node of a fresh cluster, timed until both other
 * nodes report it dead in GET /cluster, polled every DETECTION_POLL_MS.
 */
export async function runDetectionTrials(
  signal: FailureSignal,
  trials: number,
  settings: BenchNodeSettings,
): Promise<DetectionTrial[]> {
  const results: DetectionTrial[] = [];
  for (let trial = 0; trial < trials; trial++) {
    const cluster = await BenchCluster.start({ size: CLUSTER_SIZE, settings });
    try {
      await sleep(STEADY_MS);
      const victim = cluster.nodes[cluster.nodes.length - 1] as BenchNode;
      const survivors = cluster.nodes.slice(0, -1);
      const signalledAt = performance.now();
      victim.signal(signal);
      const times = await Promise.all(survivors.map((s) => timeUntilDead(s, victim.nodeId, signalledAt)));
      const bySurvivor = Object.fromEntries(survivors.map((s, i) => [s.nodeId, times[i] ?? null]));
      const detectedMs = times.some((t) => t === null) ? null : Math.max(...(times as number[]));
      results.push({ signal, bySurvivor, detectedMs });
    } finally {
      await cluster.stop();
    }
  }
  return results;
}

async function timeUntilDead(survivor: BenchNode, victimId: string, since: number): Promise<number | null> {
  for (let poll = 1; ; poll++) {
    const view = await fetchClusterView(survivor.httpAddress, DETECTION_POLL_MS * 50).catch(() => undefined);
    // When the reply arrived: the state changed at the latest then.
    const elapsed = performance.now() - since;
    if (view?.members.find((m) => m.nodeId === victimId)?.state === 'dead') return elapsed;
    if (elapsed > DETECTION_TIMEOUT_MS) return null;
    await sleep(Math.max(0, since + poll * DETECTION_POLL_MS - performance.now()));
  }
}
