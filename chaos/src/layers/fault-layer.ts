import type { NodeConfigInput } from '@meshchat/node';
import type { NodeProcess, NodeProcessOptions } from '../harness.js';
import type { SeededRandom } from '../random.js';
import type { LinkTrouble } from '../schedule.js';

export const LAYERS = ['proxy', 'netns'] as const;
export type LayerName = (typeof LAYERS)[number];

export type NodeStartConfig = Partial<NodeConfigInput> & Pick<NodeConfigInput, 'nodeId'>;

/**
 * Where the network faults of a run are made. Nodes are named by index. Every cut is
 * silent (bytes or packets stop, no close, no reset), as when a cable is pulled, and
 * lasts until healed; a node's links to its peers and to its clients are cut apart.
 * Process faults (kill, SIGSTOP) are the same on every layer and live elsewhere.
 */
export interface FaultLayer {
  readonly name: LayerName;
  /** Starts node `index` where this layer can reach its links. */
  startNode(index: number, config: NodeStartConfig, options: NodeProcessOptions): Promise<NodeProcess>;
  /** The address clients dial for node `index`. */
  clientEntry(index: number): string;
  /** Cuts the peer link between nodes a and b, both ways. */
  cutLink(a: number, b: number): void;
  healLink(a: number, b: number): void;
  /** Cuts node `index` off from every client (its peers still reach it). */
  cutClients(index: number): void;
  healClients(index: number): void;
  /** Makes every peer link of node `index` slow or lossy, drawing any detail from `random`. */
  troubleLinks(index: number, how: LinkTrouble, random: SeededRandom): void;
  clearLinks(index: number): void;
  /** Lifts whatever is still in effect; the harness's teardown closes proxies and namespaces. */
  close(): void;
}
