import { LOSS_BURST_MS, LOSS_PROBABILITY, LOSS_TICK_MS, SLOW_DELAY_MS } from '../constants.js';
import { LinkFaults, NodeProcess, type NodeProcessOptions, PROXY_HOST, SilentProxy } from '../harness.js';
import type { SeededRandom } from '../random.js';
import type { LinkTrouble } from '../schedule.js';
import type { FaultLayer, NodeStartConfig } from './fault-layer.js';

/**
 * Faults made by TCP proxies on loopback; works anywhere. Each node binds 127.0.0.1
 * and advertises 127.0.0.2 (PROXY_HOST) on the same ports, where proxies listen: one
 * per node carries every peer link to it and knows which two nodes each link joins
 * (LinkFaults), one carries its clients (SilentProxy). A cut link holds its bytes both
 * ways, as TCP retransmits into a dead network, and delivers them on the heal; a lossy
 * one holds them in bursts.
 */
export class ProxyLayer implements FaultLayer {
  readonly name = 'proxy';
  private readonly links = LinkFaults.create();
  private readonly nodeIds: string[] = [];
  private readonly clientProxies: SilentProxy[] = [];
  // What to undo when a node's links are cleared.
  private readonly troubles = new Map<number, () => void>();

  async startNode(index: number, config: NodeStartConfig, options: NodeProcessOptions): Promise<NodeProcess> {
    const node = await NodeProcess.start(
      { ...config, host: '127.0.0.1', advertiseHost: PROXY_HOST },
      { reachAt: '127.0.0.1' },
      options,
    );
    this.nodeIds[index] = config.nodeId;
    // Peers that learn the advertised address before the proxy listens retry with backoff.
    await this.links.front(config.nodeId, node.advertised.peers, node.addresses.peers);
    this.clientProxies[index] = await SilentProxy.start(node.addresses.clients, node.advertised.clients);
    return node;
  }

  clientEntry(index: number): string {
    return this.clientProxy(index).address;
  }

  cutLink(a: number, b: number): void {
    this.links.stall(this.id(a), this.id(b));
    this.links.stall(this.id(b), this.id(a));
  }

  healLink(a: number, b: number): void {
    this.links.release(this.id(a), this.id(b));
    this.links.release(this.id(b), this.id(a));
  }

  cutClients(index: number): void {
    this.clientProxy(index).partition();
  }

  healClients(index: number): void {
    this.clientProxy(index).heal();
  }

  troubleLinks(index: number, how: LinkTrouble, random: SeededRandom): void {
    this.clearLinks(index);
    const node = this.id(index);
    const directions = this.nodeIds
      .filter((other) => other !== node)
      .flatMap((other) => [
        [node, other],
        [other, node],
      ]);
    if (how === 'slow') {
      const delayMs = random.between(SLOW_DELAY_MS[0], SLOW_DELAY_MS[1]);
      for (const [from, to] of directions) this.links.delay(from as string, to as string, delayMs);
      this.troubles.set(index, () => {
        for (const [from, to] of directions) this.links.undelay(from as string, to as string);
      });
      return;
    }
    const bursts = new Map<string, NodeJS.Timeout>();
    const tick = setInterval(() => {
      for (const [from, to] of directions) {
        const key = `${from}>${to}`;
        if (bursts.has(key) || random.next() >= LOSS_PROBABILITY) continue;
        this.links.stall(from as string, to as string);
        const burst = setTimeout(
          () => {
            bursts.delete(key);
            this.links.release(from as string, to as string);
          },
          random.between(LOSS_BURST_MS[0], LOSS_BURST_MS[1]),
        );
        bursts.set(key, burst);
      }
    }, LOSS_TICK_MS);
    this.troubles.set(index, () => {
      clearInterval(tick);
      for (const burst of bursts.values()) clearTimeout(burst);
      for (const [from, to] of directions) this.links.release(from as string, to as string);
    });
  }

  clearLinks(index: number): void {
    this.troubles.get(index)?.();
    this.troubles.delete(index);
  }

  close(): void {
    for (const index of [...this.troubles.keys()]) this.clearLinks(index);
  }

  private id(index: number): string {
    const id = this.nodeIds[index];
    if (id === undefined) throw new Error(`no node ${index} in the proxy layer`);
    return id;
  }

  private clientProxy(index: number): SilentProxy {
    const proxy = this.clientProxies[index];
    if (!proxy) throw new Error(`no node ${index} in the proxy layer`);
    return proxy;
  }
}
