import type { ChaosClient } from './chaos-client.js';
import type { ChaosCluster } from './cluster.js';
import { SETTLE_CONVERGENCE_MS, SETTLE_DELIVERIES_MS, SETTLE_SENDS_MS } from './constants.js';
import { waitFor } from './harness.js';
import type { HistoryWriter } from './history.js';
import type { Workload } from './workload.js';

/**
 * After the load stops, waits (polling, each with a deadline) until every send has
 * settled, every client has shown every acked message of its rooms, and every live node
 * reports the same version vector for every room. A deadline that passes is noted in
 * the history and the run goes on: the checker then names what is missing.
 */
export async function settle(
  clients: readonly ChaosClient[],
  workload: Workload,
  cluster: ChaosCluster,
  history: HistoryWriter,
): Promise<void> {
  const unsettled = () => clients.reduce((n, c) => n + c.unsettledCount, 0);
  await noteTimeout(history, () =>
    waitFor(() => unsettled() === 0, `every send to settle (${unsettled()} unsettled)`, SETTLE_SENDS_MS),
  );
  const missing = () =>
    clients.reduce(
      (n, c) =>
        n + [...c.rooms, c.inbox].reduce((m, room) => m + Math.max(0, workload.ackedIn(room) - c.shownCount(room)), 0),
      0,
    );
  await noteTimeout(history, () =>
    waitFor(
      () => missing() === 0,
      `every client to show every message of its rooms (${missing()} missing)`,
      SETTLE_DELIVERIES_MS,
    ),
  );
  const rooms = [...new Set(clients.flatMap((c) => [...c.rooms, c.inbox]))].sort();
  const live = cluster.liveIndexes().map((i) => cluster.nodes[i] as (typeof cluster.nodes)[number]);
  await noteTimeout(history, () =>
    waitFor(
      async () => {
        const views = await cluster.views(live);
        return (
          views !== undefined &&
          rooms.every((room) => {
            // An inbox nobody wrote to is in no store: absent everywhere is the same too.
            const digests = views.map((v) => v.rooms[room]?.digest);
            return digests.every((d) => d === digests[0]);
          })
        );
      },
      `equal version vectors of ${rooms.join(', ')} on ${live.map((n) => n.nodeId).join(', ')}`,
      SETTLE_CONVERGENCE_MS,
    ),
  );
}

async function noteTimeout(history: HistoryWriter, wait: () => Promise<void>): Promise<void> {
  try {
    await wait();
  } catch (err) {
    history.record({ type: 'note', text: (err as Error).message });
  }
}
