import { NETNS_LOSSY, NETNS_SLOW } from '../constants.js';
import { NetnsLab, type NodeProcess, type NodeProcessOptions, probeNetns } from '../harness.js';
import type { LinkTrouble } from '../schedule.js';
import type { FaultLayer, NodeStartConfig } from './fault-layer.js';

/**
 * Faults made by the kernel: every node in a network namespace of its own, the nodes
 * joined by a bridge, each reached from this process over a veth of its own (see the
 * harness's NetnsLab). A cut drops packets silently (neighbour entries pointing at a
 * MAC nobody has), so TCP retransmits into the void until the heal, as on a real
 * network; slow and lossy links are a token bucket on the node's mesh link. Needs root
 * and iproute2; addresses exist only inside the namespaces and veths it creates.
 */
export class NetnsLayer implements FaultLayer {
  readonly name = 'netns';
  private readonly nodes: NodeProcess[] = [];
  private readonly shaped = new Set<number>();

  private constructor(private readonly lab: NetnsLab) {}

  /** Builds the lab, or says why this machine cannot (not root, no `ip`, namespaces forbidden, no tbf). */
  static create(size: number): NetnsLayer {
    const support = probeNetns();
    if (!support.isAvailable) throw new Error(`the netns layer cannot run here: ${support.reason}`);
    const layer = new NetnsLayer(NetnsLab.create(size));
    try {
      layer.lab.shapeMesh(0, NETNS_SLOW);
      layer.lab.shapeMesh(0, undefined);
    } catch (err) {
      throw new Error(`the netns layer cannot shape links here: ${(err as Error).message}`, { cause: err });
    }
    return layer;
  }

  async startNode(index: number, config: NodeStartConfig, options: NodeProcessOptions): Promise<NodeProcess> {
    const node = await this.lab.startNode(index, config, options);
    this.nodes[index] = node;
    return node;
  }

  clientEntry(index: number): string {
    const node = this.nodes[index];
    if (!node) throw new Error(`no node ${index} in the netns layer`);
    return node.addresses.clients;
  }

  cutLink(a: number, b: number): void {
    this.lab.cutMesh(a, b);
  }

  healLink(a: number, b: number): void {
    this.lab.healMesh(a, b);
  }

  cutClients(index: number): void {
    this.lab.cutAccess(index);
  }

  healClients(index: number): void {
    this.lab.healAccess(index);
  }

  troubleLinks(index: number, how: LinkTrouble): void {
    this.lab.shapeMesh(index, how === 'slow' ? NETNS_SLOW : NETNS_LOSSY);
    this.shaped.add(index);
  }

  clearLinks(index: number): void {
    this.lab.shapeMesh(index, undefined);
    this.shaped.delete(index);
  }

  close(): void {
    for (const index of [...this.shaped]) this.clearLinks(index);
  }
}
