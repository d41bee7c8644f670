import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { FrameDecoder, parseHostPort, peerFrameSchemas } from '@meshchat/protocol';
import { registerCleanup } from './host.js';

// The host every node of a faulty cluster advertises; its proxies listen there. Linux
// routes all of 127.0.0.0/8 to the loopback interface, so no setup is needed.
export const PROXY_HOST = '127.0.0.2';

interface ProxiedLink {
  dialer: string;
  target: string;
  dialerSide: Socket;
  targetSide: Socket;
  // Bytes held per direction ("from>to") while that direction is stalled.
  held: Map<string, Buffer[]>;
  // Bytes per direction waiting out a delay, oldest first, each with when it is due.
  delayed: Map<string, { dueAt: number; chunk: Buffer }[]>;
}

const pairKey = (a: string, b: string) => (a < b ? `${a}|${b}` : `${b}|${a}`);
const directionKey = (from: string, to: string) => `${from}>${to}`;

/**
 * Fault injection on single peer links of an in-process cluster.
 *
 * The mesh dials a member at the peer address the member advertises
 * (`advertiseHost:peerPort`, learned by gossip), and keeps one link per pair,
 * dialled by whichever side got there first. A proxy in front of one node's port
 * would therefore carry every link to that node, not one chosen link. Instead, every
 * node binds 127.0.0.1 and advertises 127.0.0.2 on the same port, and a proxy per node
 * listens at that advertised address: every peer link, whoever dials it, passes
 * through the proxy of the node dialled. The proxy reads the dialer's peer_hello (the
 * first frame) to learn which two nodes a connection joins, so a fault hits exactly one
 * link: cut it (and refuse to carry it again until healed), stall or delay one direction.
 */
export class LinkFaults {
  private readonly servers: Server[] = [];
  private readonly links = new Set<ProxiedLink>();
  private readonly cutPairs = new Set<string>();
  private readonly stalled = new Set<string>();
  private readonly delays = new Map<string, number>();

  private constructor() {}

  static create(): LinkFaults {
    const faults = new LinkFaults();
    registerCleanup(() => faults.close());
    return faults;
  }

  /** Listens at the address `nodeId` advertises and forwards to where it is bound. */
  async front(nodeId: string, advertised: string, bound: string): Promise<void> {
    const { host, port } = parseHostPort(advertised);
    const { host: targetHost, port: targetPort } = parseHostPort(bound);
    const server = createServer((socket) => this.carry(socket, nodeId, targetHost, targetPort));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.servers.push(server);
  }

  /** Open links between a and b (0 or 1 once the mesh has settled). */
  linkCount(a: string, b: string): number {
    return [...this.links].filter((l) => pairKey(l.dialer, l.target) === pairKey(a, b)).length;
  }

  /** Drops the link between a and b and refuses to carry a new one until heal(). */
  cut(a: string, b: string): void {
    this.cutPairs.add(pairKey(a, b));
    for (const link of [...this.links]) if (pairKey(link.dialer, link.target) === pairKey(a, b)) this.drop(link);
  }

  heal(a: string, b: string): void {
    this.cutPairs.delete(pairKey(a, b));
  }

  /** Cuts every link of `nodeId` to the others: a partition around one node. */
  isolate(nodeId: string, others: readonly string[]): void {
    for (const other of others) this.cut(nodeId, other);
  }

  rejoin(nodeId: string, others: readonly string[]): void {
    for (const other of others) this.heal(nodeId, other);
  }

  /**
   * Holds every byte `from` sends `to` (the link stays open, the other direction
   * flows): a link so slow that heartbeats stop arriving. release() delivers them.
   */
  stall(from: string, to: string): void {
    this.stalled.add(directionKey(from, to));
  }

  release(from: string, to: string): void {
    const key = directionKey(from, to);
    this.stalled.delete(key);
    for (const link of this.links) {
      const held = link.held.get(key);
      if (!held) continue;
      link.held.delete(key);
      for (const chunk of held) this.deliver(link, key, to, chunk);
    }
  }

  /** Delivers every byte `from` sends `to` `ms` later, in order: a link with high latency. */
  delay(from: string, to: string, ms: number): void {
    this.delays.set(directionKey(from, to), ms);
  }

  undelay(from: string, to: string): void {
    this.delays.delete(directionKey(from, to));
  }

  async close(): Promise<void> {
    for (const link of [...this.links]) this.drop(link);
    await Promise.all(this.servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }

  private carry(dialerSide: Socket, target: string, targetHost: string, targetPort: number): void {
    const targetSide = connect({ host: targetHost, port: targetPort });
    const decoder = new FrameDecoder(peerFrameSchemas, { maxFrameBytes: 8 * 1024 * 1024 });
    const early: { fromDialer: Buffer[]; fromTarget: Buffer[] } = { fromDialer: [], fromTarget: [] };
    let link: ProxiedLink | undefined;
    let isClosed = false;
    const closeBoth = () => {
      isClosed = true;
      dialerSide.destroy();
      targetSide.destroy();
      if (link) this.links.delete(link);
    };
    dialerSide.on('error', closeBoth).on('close', closeBoth);
    targetSide.on('error', closeBoth).on('close', closeBoth);

    // Until the dialer's hello names it, hold both directions.
    const identify = (dialer: string) => {
      if (isClosed) return;
      if (this.cutPairs.has(pairKey(dialer, target))) {
        closeBoth();
        return;
      }
      link = { dialer, target, dialerSide, targetSide, held: new Map(), delayed: new Map() };
      this.links.add(link);
      const established = link;
      for (const chunk of early.fromDialer) this.forward(established, dialer, target, chunk);
      for (const chunk of early.fromTarget) this.forward(established, target, dialer, chunk);
      dialerSide
        .removeAllListeners('data')
        .on('data', (chunk: Buffer) => this.forward(established, dialer, target, chunk));
      targetSide
        .removeAllListeners('data')
        .on('data', (chunk: Buffer) => this.forward(established, target, dialer, chunk));
    };
    targetSide.on('data', (chunk: Buffer) => early.fromTarget.push(chunk));
    dialerSide.on('data', (chunk: Buffer) => {
      early.fromDialer.push(chunk);
      const { frames, error } = decoder.push(chunk);
      const hello = frames.find((f) => f.type === 'peer_hello');
      // Bytes that are not a hello (garbage) are carried as they are, tied to no pair.
      if (hello?.type === 'peer_hello') identify(hello.nodeId);
      else if (error || frames.length > 0) identify(`unknown-${randomBytes(4).toString('hex')}`);
    });
  }

  private forward(link: ProxiedLink, from: string, to: string, chunk: Buffer): void {
    const key = directionKey(from, to);
    const held = link.held.get(key);
    if (held || this.stalled.has(key)) {
      if (held) held.push(chunk);
      else link.held.set(key, [chunk]);
      return;
    }
    this.deliver(link, key, to, chunk);
  }

  // Writes `chunk` once the direction's delay has passed, and never ahead of bytes still
  // waiting out an earlier delay: a delay lifted (or shortened) while bytes wait must
  // not let newer bytes overtake them, or the stream would be garbled.
  private deliver(link: ProxiedLink, key: string, to: string, chunk: Buffer): void {
    const destination = to === link.target ? link.targetSide : link.dialerSide;
    const delayMs = this.delays.get(key) ?? 0;
    const waiting = link.delayed.get(key);
    if (delayMs === 0 && !waiting) {
      destination.write(chunk);
      return;
    }
    const entry = { dueAt: performance.now() + delayMs, chunk };
    if (waiting) {
      waiting.push(entry);
      return;
    }
    link.delayed.set(key, [entry]);
    this.drain(link, key, destination);
  }

  private drain(link: ProxiedLink, key: string, destination: Socket): void {
    const waiting = link.delayed.get(key);
    if (!waiting) return;
    if (destination.destroyed) {
      link.delayed.delete(key);
      return;
    }
    const now = performance.now();
    while (waiting[0] && waiting[0].dueAt <= now) destination.write((waiting.shift() as { chunk: Buffer }).chunk);
    const next = waiting[0];
    if (!next) {
      link.delayed.delete(key);
      return;
    }
    setTimeout(() => this.drain(link, key, destination), next.dueAt - now);
  }

  private drop(link: ProxiedLink): void {
    this.links.delete(link);
    link.dialerSide.destroy();
    link.targetSide.destroy();
  }
}
