import type { ChaosCluster } from './cluster.js';
import { readStoreContents } from './harness.js';
import type { FinalStores } from './stores.js';

/**
 * Stops every node (SIGTERM, so each closes its store) and reads what each node live
 * at the end holds, from its LMDB files. A node that was not running at the end (it
 * crashed) is listed as not live, with nothing read.
 */
export async function collectStores(cluster: ChaosCluster): Promise<FinalStores> {
  const live = new Set(cluster.liveIndexes());
  await cluster.stopAll();
  const stores: FinalStores = { nodes: {} };
  for (const [index, node] of cluster.nodes.entries()) {
    if (!live.has(index)) {
      stores.nodes[node.nodeId] = { live: false, rooms: {} };
      continue;
    }
    const rooms = await readStoreContents(node.dataDir);
    stores.nodes[node.nodeId] = {
      live: true,
      rooms: Object.fromEntries(
        Object.entries(rooms).map(([room, { ids, history, senders }]) => [room, { ids, history, senders }]),
      ),
    };
  }
  return stores;
}
