import { setTimeout as sleep } from 'node:timers/promises';
import type { ChaosCluster } from './cluster.js';
import type { HistoryWriter } from './history.js';
import type { FaultLayer } from './layers/fault-layer.js';
import { SeededRandom } from './random.js';
import { describeFault, type Episode, type Fault, othersOf } from './schedule.js';

export interface InjectionTarget {
  cluster: ChaosCluster;
  layer: FaultLayer;
  history: HistoryWriter;
  seed: number;
  /** How many clients are on a node now: a fault of a node nobody is on moves no client. */
  clientsOn: (nodeId: string) => number;
  /** Told of each fault as it starts and heals. */
  onFault?: (line: string) => void;
}

/**
 * Runs the schedule: each fault at its time (counted from `startedAt`), held for its
 * time, then healed, also when `signal` aborts the run or anything throws. A heal that
 * took long (a restart) pushes the next fault back, so it still comes its drawn gap
 * after the heal. Resolves once the last fault has healed.
 */
export async function injectFaults(
  episodes: readonly Episode[],
  target: InjectionTarget,
  startedAt: number,
  signal?: AbortSignal,
): Promise<void> {
  const { cluster, history } = target;
  let healedAt = startedAt;
  for (const [index, episode] of episodes.entries()) {
    const previous = episodes[index - 1];
    const gapMs = previous ? episode.atMs - previous.atMs - previous.holdMs : 0;
    const dueIn = Math.max(startedAt + episode.atMs, healedAt + gapMs) - performance.now();
    if (dueIn > 0) await sleep(dueIn, undefined, signal ? { signal } : {});
    const description = describeFault(episode.fault, cluster.nodeIds);
    const clients = episode.fault.nodes.reduce((n, i) => n + target.clientsOn(cluster.nodeIds[i] as string), 0);
    // Its own stream per episode, so a lossy link's pattern depends on the seed alone.
    const heal = await apply(episode.fault, target, new SeededRandom(target.seed + index + 1));
    history.record({ type: 'fault', phase: 'start', fault: episode.fault, description, clients });
    const appliedAt = history.now();
    target.onFault?.(`${(appliedAt / 1000).toFixed(1).padStart(6)} s  ${description} (${clients} clients on it)`);
    try {
      await sleep(episode.holdMs, undefined, signal ? { signal } : {});
    } finally {
      await heal();
      healedAt = performance.now();
      history.record({ type: 'fault', phase: 'heal', fault: episode.fault, description });
      target.onFault?.(
        `${(history.now() / 1000).toFixed(1).padStart(6)} s    healed after ${((history.now() - appliedAt) / 1000).toFixed(1)} s`,
      );
    }
  }
}

/** Makes the fault; returns what heals it. */
async function apply(fault: Fault, target: InjectionTarget, random: SeededRandom): Promise<() => Promise<void> | void> {
  const { cluster, layer } = target;
  const size = cluster.nodes.length;
  const [node] = fault.nodes as [number];
  switch (fault.kind) {
    case 'kill':
      await cluster.kill(node);
      return () => cluster.restart(node);
    case 'restart':
      await cluster.stop(node);
      return () => cluster.restart(node);
    case 'pause':
      cluster.pause(node);
      return () => cluster.resume(node);
    case 'slow':
      layer.troubleLinks(node, fault.variant, random);
      return () => layer.clearLinks(node);
    case 'partition': {
      if (fault.variant === 'clients') {
        layer.cutClients(node);
        return () => layer.healClients(node);
      }
      const pairs: [number, number][] =
        fault.variant === 'link'
          ? [fault.nodes as [number, number]]
          : fault.nodes.flatMap((a) => othersOf(fault.nodes, size).map((b): [number, number] => [a, b]));
      for (const [a, b] of pairs) layer.cutLink(a, b);
      return () => {
        for (const [a, b] of pairs) layer.healLink(a, b);
      };
    }
  }
}
