import { BenchCluster } from '../cluster.js';
import {
  CLUSTER_SIZE,
  CONVERGE_TIMEOUT_MS,
  FILL_PUBLISHERS,
  FILL_TIMEOUT_MS,
  FILL_WINDOW,
  STORESIZE_MESSAGES,
} from '../constants.js';
import { type DiskUsage, diskUsage } from '../disk-usage.js';
import { type AckedPublishResult, publishAcked } from '../load/acked-publisher.js';
import { type BenchNodeSettings, withStore } from '../node-settings.js';
import { heldMessages, waitUntilConverged } from '../room-vectors.js';

const storeSizeRoomOf = (publisher: number) => `size-${publisher}`;

export interface NodeStoreSize {
  nodeId: string;
  /** The data directory of the running node before the fill. */
  empty: DiskUsage;
  /** After the fill, once the node stopped (its store closed). */
  full: DiskUsage;
}

export interface StoreSizeResult {
  fill: AckedPublishResult;
  /** Messages every node held when they stopped. */
  messages: number;
  nodes: NodeStoreSize[];
}

/**
 * STORESIZE_MESSAGES 100-byte messages sent through the clients of a fresh 3-node
 * cluster (LMDB store), until every node holds all of them; then the nodes stop and
 * their data directories are measured: file sizes and allocated blocks.
 */
export async function runStoreSize(settings: BenchNodeSettings): Promise<StoreSizeResult> {
  const cluster = await BenchCluster.start({ size: CLUSTER_SIZE, settings: withStore(settings, 'lmdb') });
  try {
    const empty = cluster.nodes.map((n) => diskUsage(n.dataDir));
    const fill = await publishAcked({
      servers: cluster.clientAddresses,
      publishers: FILL_PUBLISHERS,
      roomOf: storeSizeRoomOf,
      messages: STORESIZE_MESSAGES,
      window: FILL_WINDOW,
      timeoutMs: FILL_TIMEOUT_MS,
    });
    const messages = heldMessages(await waitUntilConverged(cluster.nodes, CONVERGE_TIMEOUT_MS));
    await Promise.all(cluster.nodes.map((n) => n.stop()));
    return {
      fill,
      messages,
      nodes: cluster.nodes.map((n, i) => ({
        nodeId: n.nodeId,
        empty: empty[i] as DiskUsage,
        full: diskUsage(n.dataDir),
      })),
    };
  } finally {
    await cluster.stop();
  }
}
