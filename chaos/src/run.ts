import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ChaosClient } from './chaos-client.js';
import { ChaosCluster } from './cluster.js';
import { MAX_QUIET_MS, MIN_QUIET_MS, QUIET_FRACTION, SEND_EVERY_MS } from './constants.js';
import { collectStores } from './final-stores.js';
import { type Cleanup, routeCleanups } from './harness.js';
import { HistoryWriter } from './history.js';
import { injectFaults } from './injector.js';
import type { FaultLayer, LayerName } from './layers/fault-layer.js';
import { NetnsLayer } from './layers/netns-layer.js';
import { ProxyLayer } from './layers/proxy-layer.js';
import { HISTORY_FILE, STORES_FILE } from './run-files.js';
import { drawSchedule, type Episode, type FaultKind } from './schedule.js';
import { settle } from './settle.js';
import { writeStores } from './stores.js';
import { Workload } from './workload.js';

export interface ChaosOptions {
  nodes: number;
  clients: number;
  rooms: number;
  durationS: number;
  seed: number;
  faults: FaultKind[];
  layer: LayerName;
  /** Where the history, node logs, data and final stores go; created if missing. */
  runDir: string;
  /** Told of the run's progress and each fault as it happens. */
  log?: (line: string) => void;
}

const ROOM_NAMES = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta'];
// A client sends at most this much past the run's duration, whatever holds the run up.
const SEND_BOUND_SLACK_MS = 120_000;

export function roomNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => ROOM_NAMES[i] ?? `room${i + 1}`);
}

/** The quiet period that ends a run of `durationMs`: a fifth of it, 5 to 30 s. */
export function quietMsFor(durationMs: number): number {
  return Math.min(MAX_QUIET_MS, Math.max(MIN_QUIET_MS, Math.round(durationMs * QUIET_FRACTION)));
}

/** The faults a run with these options injects: the seed decides, not the layer. */
export function scheduleFor(options: Pick<ChaosOptions, 'seed' | 'nodes' | 'faults' | 'durationS'>): Episode[] {
  const durationMs = options.durationS * 1000;
  return drawSchedule({
    seed: options.seed,
    nodes: options.nodes,
    kinds: options.faults,
    faultsEndMs: durationMs - quietMsFor(durationMs),
  });
}

/**
 * One chaos run: a cluster of real node processes on a fault layer, clients chatting
 * without pause, the seed's faults one after another (each healed), a quiet period,
 * then the settle phase, and the nodes' final stores read into the run's directory
 * beside the history. Everything it started is stopped and removed (but the run's
 * directory) when it returns or throws. Judging the run is checkRunDir's job.
 */
export async function runChaos(options: ChaosOptions): Promise<void> {
  const log = options.log ?? (() => {});
  mkdirSync(options.runDir, { recursive: true });
  // A node would start on an earlier run's data, and the history would mix two runs.
  if (readdirSync(options.runDir).length > 0) throw new Error(`the run's directory ${options.runDir} is not empty`);
  const cleanups: Cleanup[] = [];
  routeCleanups((cleanup) => cleanups.push(cleanup));
  const history = new HistoryWriter(join(options.runDir, HISTORY_FILE));
  const clients: ChaosClient[] = [];
  let layer: FaultLayer | undefined;
  let workload: Workload | undefined;
  try {
    layer = options.layer === 'netns' ? NetnsLayer.create(options.nodes) : new ProxyLayer();
    const durationMs = options.durationS * 1000;
    const quietMs = quietMsFor(durationMs);
    const rooms = roomNames(options.rooms);
    const episodes = scheduleFor(options);
    const nodeIds = Array.from({ length: options.nodes }, (_, i) => `n${i + 1}`);
    history.record({
      type: 'run',
      seed: options.seed,
      layer: layer.name,
      nodes: nodeIds,
      clients: options.clients,
      rooms,
      durationMs,
      quietMs,
      faults: options.faults,
      startedAt: new Date().toISOString(),
    });
    history.record({ type: 'schedule', episodes });

    log(`starting ${options.nodes} nodes (${layer.name} layer) and ${options.clients} clients`);
    const cluster = await ChaosCluster.start(layer, options.nodes, options.runDir, history);
    const running = layer;
    const entries = nodeIds.map((_, i) => running.clientEntry(i));
    // Client i starts on node i mod nodes, is in room i mod rooms and, every other one, in the next room too.
    for (let i = 0; i < options.clients; i++) {
      const home = i % entries.length;
      const seeds = [...entries.slice(home), ...entries.slice(0, home)];
      clients.push(ChaosClient.create(`c${i}`, seeds, nodeIds[home] as string, history));
    }
    await Promise.all(
      clients.map(async (client, i) => {
        await client.connect();
        await client.join(rooms[i % rooms.length] as string);
        if (rooms.length > 1 && i % 2 === 0) await client.join(rooms[(i + 1) % rooms.length] as string);
      }),
    );

    log(`load for ${options.durationS} s: ${episodes.length} faults, then a quiet ${quietMs / 1000} s`);
    const maxPerClient = Math.ceil((durationMs + SEND_BOUND_SLACK_MS) / SEND_EVERY_MS);
    workload = new Workload(clients, SEND_EVERY_MS, maxPerClient);
    history.record({ type: 'phase', phase: 'load' });
    const startedAt = performance.now();
    workload.start();
    const clientsOn = (nodeId: string) => clients.filter((c) => c.nodeId === nodeId).length;
    await injectFaults(episodes, { cluster, layer, history, seed: options.seed, clientsOn, onFault: log }, startedAt);
    history.record({ type: 'phase', phase: 'quiet' });
    await sleep(Math.max(quietMs, startedAt + durationMs - performance.now()));

    log('settling: every send acked, every message shown, every node the same');
    history.record({ type: 'phase', phase: 'settle' });
    workload.stop();
    await settle(clients, workload, cluster, history);

    history.record({ type: 'phase', phase: 'stop' });
    await Promise.all(clients.map((c) => c.close()));
    writeStores(join(options.runDir, STORES_FILE), await collectStores(cluster));
    history.record({ type: 'phase', phase: 'end' });
  } finally {
    workload?.stop();
    await Promise.allSettled(clients.map((c) => c.close()));
    layer?.close();
    await history.close();
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (err) {
        log(`cleanup: ${(err as Error).message}`);
      }
    }
  }
}
