import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { BenchCluster, type BenchNode, type ClusterView, fetchClusterView } from '../cluster.js';
import {
  CATCHUP_MESSAGES,
  CATCHUP_POLL_MS,
  CATCHUP_TIMEOUT_MS,
  CLUSTER_SIZE,
  CONVERGE_TIMEOUT_MS,
  FILL_PUBLISHERS,
  FILL_TIMEOUT_MS,
  FILL_WINDOW,
} from '../constants.js';
import { type AckedPublishResult, publishAcked } from '../load/acked-publisher.js';
import type { BenchNodeSettings } from '../node-settings.js';
import { heldMessages, isSameHistory, waitUntilConverged } from '../room-vectors.js';
import { cpuSeconds, otherCpuMeter } from '../system.js';

const catchupRoomOf = (publisher: number) => `catchup-${publisher}`;

export interface CatchupResult {
  fill: AckedPublishResult;
  /** Messages the restarted node lacked when it started, and those it gained until it was done. */
  missed: number;
  caughtUp: number;
  isConverged: boolean;
  /** From spawning the node to its "node listening" log line. */
  startSeconds: number;
  /** From "node listening" to the first message stored, and to vectors equal to the survivors'. */
  firstMessageSeconds: number | null;
  seconds: number;
  perSecond: number;
  /** The restarted node's CPU time over the catch-up. */
  cpuSeconds: number;
  /** The survivors' CPU time meanwhile: reading and sending what it missed. */
  peersCpuSeconds: number;
  /** Messages the survivors' anti-entropy sent meanwhile: above `caughtUp` when both send the same ranges. */
  sentByPeers: number;
  /** CPU used meanwhile by everything but the nodes and the bench, % of one core. */
  otherCpuPercent: number;
}

/**
 * A node of three is stopped (SIGTERM: it closes its store and exits), CATCHUP_MESSAGES
 * are sent through the two others, and the node is started again on its data directory.
 * Its GET /cluster is polled every CATCHUP_POLL_MS until its room vectors equal the
 * survivors': the time anti-entropy took to bring it everything it missed.
 */
export async function runCatchup(settings: BenchNodeSettings, cpuProfileDir?: string): Promise<CatchupResult> {
  const cluster = await BenchCluster.start({
    size: CLUSTER_SIZE,
    settings,
    ...(cpuProfileDir ? { cpuProfileDir } : {}),
  });
  try {
    const victim = cluster.nodes[CLUSTER_SIZE - 1] as BenchNode;
    const survivors = cluster.nodes.slice(0, -1);
    const heldBefore = heldMessages(await fetchClusterView(victim.httpAddress));
    await victim.stop();
    const fill = await publishAcked({
      servers: survivors.map((n) => n.clientAddress),
      publishers: FILL_PUBLISHERS,
      roomOf: catchupRoomOf,
      messages: CATCHUP_MESSAGES,
      window: FILL_WINDOW,
      timeoutMs: FILL_TIMEOUT_MS,
    });
    const target = await waitUntilConverged(survivors, CONVERGE_TIMEOUT_MS);
    const sentBefore = await antiEntropySent(survivors);
    const spawnedAt = performance.now();
    const node = await cluster.restart(victim.nodeId);
    const listeningAt = performance.now();
    const cpuBefore = cpuSeconds(node.pid);
    const peersCpu = () => survivors.reduce((sum, n) => sum + cpuSeconds(n.pid), 0);
    const peersCpuBefore = peersCpu();
    const otherCpu = otherCpuMeter([...cluster.nodes.map((n) => n.pid), process.pid]);
    const progress = await pollUntilSame(node, target, heldBefore, listeningAt);
    const cpu = cpuSeconds(node.pid) - cpuBefore;
    const peersCpuSeconds = peersCpu() - peersCpuBefore;
    const otherCpuPercent = otherCpu();
    const caughtUp = progress.held - heldBefore;
    return {
      fill,
      missed: heldMessages(target) - heldBefore,
      caughtUp,
      isConverged: progress.isConverged,
      startSeconds: (listeningAt - spawnedAt) / 1000,
      firstMessageSeconds: progress.firstMessageMs === null ? null : progress.firstMessageMs / 1000,
      seconds: progress.elapsedMs / 1000,
      perSecond: progress.elapsedMs > 0 ? caughtUp / (progress.elapsedMs / 1000) : 0,
      cpuSeconds: cpu,
      peersCpuSeconds,
      sentByPeers: (await antiEntropySent(survivors)) - sentBefore,
      otherCpuPercent,
    };
  } finally {
    await cluster.stop();
  }
}

interface Progress {
  held: number;
  firstMessageMs: number | null;
  elapsedMs: number;
  isConverged: boolean;
}

async function pollUntilSame(
  node: BenchNode,
  target: ClusterView,
  heldBefore: number,
  since: number,
): Promise<Progress> {
  let firstMessageMs: number | null = null;
  let held = heldBefore;
  for (let poll = 1; ; poll++) {
    // A node busy catching up may answer late; a poll that fails is only a missed sample.
    const view = await fetchClusterView(node.httpAddress, CATCHUP_TIMEOUT_MS).catch(() => undefined);
    // When the reply arrived: the node had caught up at the latest then.
    const elapsedMs = performance.now() - since;
    if (view) held = heldMessages(view);
    if (firstMessageMs === null && held > heldBefore) firstMessageMs = elapsedMs;
    const isConverged = view !== undefined && isSameHistory(view, target);
    if (isConverged || elapsedMs > CATCHUP_TIMEOUT_MS) {
      return { held, firstMessageMs, elapsedMs, isConverged };
    }
    await sleep(Math.max(0, since + poll * CATCHUP_POLL_MS - performance.now()));
  }
}

async function antiEntropySent(nodes: BenchNode[]): Promise<number> {
  const views = await Promise.all(nodes.map((n) => fetchClusterView(n.httpAddress)));
  return views.reduce((sum, view) => sum + view.replication.antiEntropySent, 0);
}
