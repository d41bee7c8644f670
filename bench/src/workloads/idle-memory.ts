import { setTimeout as sleep } from 'node:timers/promises';
import { BenchCluster, type BenchNode, fetchClusterView } from '../cluster.js';
import { CLIENT_PING_MS, CLUSTER_SIZE, FD_HEADROOM, IDLE_CONNECT_CONCURRENCY, IDLE_SETTLE_MS } from '../constants.js';
import { GeneratorProcess } from '../load/ipc.js';
import type { BenchNodeSettings } from '../node-settings.js';
import { IDLE_CLIENTS } from '../paths.js';
import { ephemeralPortRange, openFileLimit, rssBytes } from '../system.js';

// The node's default when the config leaves limits.idleTimeoutMs out.
const DEFAULT_IDLE_TIMEOUT_MS = 15_000;
// 10,000 connects take a few seconds; this only bounds a generator that hangs.
const IDLE_CONNECT_TIMEOUT_MS = 120_000;

export interface IdleMemoryResult {
  clients: number;
  connected: number;
  failed: number;
  firstError?: string;
  /** Sessions the node counted when RSS was read. */
  sessionsOnNode: number;
  connectSeconds: number;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  bytesPerClient: number;
}

export class LimitError extends Error {
  override readonly name = 'LimitError';
}

/**
 * Every idle client is a socket in the generator and one in the node, and takes a
 * source port from the ephemeral range: check both limits before starting, and say how
 * to raise them. (Node raises its soft open-file limit to the hard one at startup, so
 * the hard limit is what counts for the bench and the node processes alike.)
 */
export function checkIdleLimits(clients: number): void {
  const needed = clients + FD_HEADROOM;
  const { soft, hard } = openFileLimit();
  if (soft < needed) {
    throw new LimitError(
      `the idle-connection scenario needs ${needed} open files per process, the limit is ${soft} (hard ${hard}): ` +
        `raise it with \`ulimit -n ${needed}\` (as root, or up to the hard limit) or pass --idle-clients ${Math.max(0, soft - FD_HEADROOM)}`,
    );
  }
  const { low, high } = ephemeralPortRange();
  if (high - low + 1 < needed) {
    throw new LimitError(
      `the idle-connection scenario needs ${needed} loopback source ports, net.ipv4.ip_local_port_range gives ` +
        `${low}-${high} (${high - low + 1}): widen it with \`sysctl -w net.ipv4.ip_local_port_range="1024 65535"\``,
    );
  }
}

/** RSS of one node before and after `clients` idle connections (hello, then pings only). */
export async function runIdleMemory(clients: number, settings: BenchNodeSettings): Promise<IdleMemoryResult> {
  checkIdleLimits(clients);
  const cluster = await BenchCluster.start({ size: CLUSTER_SIZE, settings });
  let generator: GeneratorProcess | undefined;
  try {
    const node = cluster.nodes[0] as BenchNode;
    await sleep(IDLE_SETTLE_MS);
    const rssBeforeBytes = rssBytes(node.pid);
    const idleTimeoutMs = settings.limits.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    const startedAt = Date.now();
    generator = GeneratorProcess.start(IDLE_CLIENTS, {
      server: node.clientAddress,
      clients,
      concurrency: IDLE_CONNECT_CONCURRENCY,
      pingEveryMs: Math.min(CLIENT_PING_MS, idleTimeoutMs / 3),
    });
    const connected = await generator.next('connected', IDLE_CONNECT_TIMEOUT_MS);
    const connectSeconds = (Date.now() - startedAt) / 1000;
    await sleep(IDLE_SETTLE_MS);
    const rssAfterBytes = rssBytes(node.pid);
    const view = await fetchClusterView(node.httpAddress);
    const self = view.members.find((m) => m.nodeId === node.nodeId);
    return {
      clients,
      connected: connected.connected,
      failed: connected.failed,
      ...(connected.firstError ? { firstError: connected.firstError } : {}),
      sessionsOnNode: self?.clients ?? 0,
      connectSeconds,
      rssBeforeBytes,
      rssAfterBytes,
      bytesPerClient: connected.connected > 0 ? (rssAfterBytes - rssBeforeBytes) / connected.connected : Number.NaN,
    };
  } finally {
    await generator?.stop();
    await cluster.stop();
  }
}
