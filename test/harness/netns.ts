import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import type { NodeConfigInput } from '@meshchat/node';
import { registerCleanup } from './host.js';
import { NodeProcess, type NodeProcessOptions, type ProcessClusterOptions } from './processes.js';

// Node processes in network namespaces of their own, so a partition is a real one: the
// kernel stops carrying packets between hosts, as on a real network. Needs Linux, root
// and iproute2 (`ip`); probeNetns() says whether this machine has them.
//
// Every host namespace has two links:
//   mesh    to a bridge in a switch namespace; peers dial each other's mesh address.
//   access  a veth to the test's own (root) namespace, where the test's clients and
//           HTTP requests come from. It stays up through any partition, so clients on
//           both sides keep talking to their node.
// isolate() sets a host's mesh link down inside its namespace: packets to and from it
// over the mesh are dropped silently (no RST, no FIN), the way a cut cable behaves.
// cutMesh() and cutAccess() cut single links as silently (and without iptables or nft,
// which a machine may lack): each end gets a permanent neighbour entry for the other
// end's address pointing at a MAC no interface has, so frames go out and nobody takes
// them. shapeMesh() makes a host's mesh link slow or lossy with a token bucket (tbf).

export type NetnsSupport = { isAvailable: true } | { isAvailable: false; reason: string };

const MESH_PREFIX = '192.168.77';
// Locally administered and owned by no interface of a lab: frames sent to it are dropped.
const NOWHERE_MAC = '02:00:00:00:00:00';

/** A token bucket on a link: `rateKbit` sustained, at most `queueBytes` waiting, the rest dropped. */
export interface LinkShape {
  rateKbit: number;
  queueBytes: number;
}

/**
 * Whether this test process can build network namespaces: Linux, root, `ip` on the
 * PATH, and a namespace with a veth pair and a bridge that can actually be made (a
 * container may forbid it). The reason says what is missing.
 */
export function probeNetns(): NetnsSupport {
  if (process.platform !== 'linux') {
    return { isAvailable: false, reason: `network namespaces are Linux only, this is ${process.platform}` };
  }
  if (process.getuid?.() !== 0) return { isAvailable: false, reason: 'needs root to run `ip netns add`' };
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    return { isAvailable: false, reason: '`ip` (iproute2) is not installed' };
  }
  const probe = `meshchat-probe-${randomBytes(4).toString('hex')}`;
  try {
    ip('netns', 'add', probe);
    ip('-n', probe, 'link', 'add', 'probe0', 'type', 'veth', 'peer', 'name', 'probe1');
    ip('-n', probe, 'link', 'add', 'probebr', 'type', 'bridge');
    return { isAvailable: true };
  } catch (err) {
    return { isAvailable: false, reason: `cannot build a network namespace here: ${(err as Error).message}` };
  } finally {
    ipQuietly('netns', 'del', probe);
  }
}

/** One host of a lab: a namespace with its mesh and access addresses. */
export interface NetnsHost {
  /** The network namespace, unique to this lab. */
  netns: string;
  /** Where its peers reach it, on the mesh. */
  meshIp: string;
  /** Where the test process reaches it, over its access link. */
  accessIp: string;
}

// Labs not yet torn down, so a worker that exits without its afterEach leaves none.
const liveLabs = new Set<NetnsLab>();
process.once('exit', () => {
  for (const lab of liveLabs) lab.destroy();
});

/**
 * `size` hosts in network namespaces joined by a bridge, each reachable from the test
 * process (see the comment at the top of this file). Names carry a random tag, so
 * concurrent runs do not collide; everything is deleted after the test, also when it
 * fails or when building the lab fails half-way.
 */
export class NetnsLab {
  readonly hosts: NetnsHost[] = [];
  private readonly namespaces: string[] = [];
  private readonly rootLinks: string[] = [];
  // Per host: its port on the switch, and its access link's name and address in the root namespace.
  private readonly ends: { switchPort: string; rootLink: string; rootIp: string }[] = [];
  private switchNs = '';

  private constructor(readonly tag: string) {}

  static create(size: number): NetnsLab {
    const lab = new NetnsLab(randomBytes(3).toString('hex'));
    liveLabs.add(lab);
    registerCleanup(() => lab.destroy());
    lab.build(size, freeAccessPrefix());
    return lab;
  }

  /** Cuts a host off the mesh: its mesh link goes down inside its namespace. */
  isolate(index: number): void {
    ip('-n', this.host(index).netns, 'link', 'set', 'mesh', 'down');
  }

  /** Brings a host's mesh link back up (its address and routes come back with it). */
  rejoin(index: number): void {
    ip('-n', this.host(index).netns, 'link', 'set', 'mesh', 'up');
  }

  /** Cuts the mesh between hosts a and b, silently and both ways; their other links carry on. */
  cutMesh(a: number, b: number): void {
    const [one, other] = [this.host(a), this.host(b)];
    ip('-n', one.netns, 'neigh', 'replace', other.meshIp, 'lladdr', NOWHERE_MAC, 'dev', 'mesh', 'nud', 'permanent');
    ip('-n', other.netns, 'neigh', 'replace', one.meshIp, 'lladdr', NOWHERE_MAC, 'dev', 'mesh', 'nud', 'permanent');
  }

  /** Undoes cutMesh: the entries go, and each end asks (ARP) for the other's real address again. */
  healMesh(a: number, b: number): void {
    const [one, other] = [this.host(a), this.host(b)];
    ipQuietly('-n', one.netns, 'neigh', 'del', other.meshIp, 'dev', 'mesh');
    ipQuietly('-n', other.netns, 'neigh', 'del', one.meshIp, 'dev', 'mesh');
  }

  /** Cuts host `index` off from the test process (its clients), silently; its mesh carries on. */
  cutAccess(index: number): void {
    const host = this.host(index);
    const { rootLink, rootIp } = this.end(index);
    ip('neigh', 'replace', host.accessIp, 'lladdr', NOWHERE_MAC, 'dev', rootLink, 'nud', 'permanent');
    ip('-n', host.netns, 'neigh', 'replace', rootIp, 'lladdr', NOWHERE_MAC, 'dev', 'access', 'nud', 'permanent');
  }

  healAccess(index: number): void {
    const host = this.host(index);
    const { rootLink, rootIp } = this.end(index);
    ipQuietly('neigh', 'del', host.accessIp, 'dev', rootLink);
    ipQuietly('-n', host.netns, 'neigh', 'del', rootIp, 'dev', 'access');
  }

  /**
   * Shapes host `index`'s mesh link both ways (the host's end and its switch port) with
   * a token bucket: traffic beyond the rate waits in a queue (a slow link), and what
   * overflows the queue is dropped (a lossy one). `undefined` lifts the shape.
   */
  shapeMesh(index: number, shape: LinkShape | undefined): void {
    const ends: [string, string][] = [
      [this.host(index).netns, 'mesh'],
      [this.switchNs, this.end(index).switchPort],
    ];
    for (const [netns, dev] of ends) {
      if (!shape) {
        tcQuietly('-n', netns, 'qdisc', 'del', 'dev', dev, 'root');
        continue;
      }
      // The bucket holds at least a few full frames, or nothing larger than it passes.
      const burst = Math.max(8 * 1024, Math.ceil((shape.rateKbit * 1000) / 8 / 100));
      tc(
        ...['-n', netns, 'qdisc', 'replace', 'dev', dev, 'root', 'tbf'],
        ...['rate', `${shape.rateKbit}kbit`, 'burst', String(burst), 'limit', String(shape.queueBytes)],
      );
    }
  }

  /**
   * Starts a node process in host `index`: bound to every address of its namespace,
   * advertising its mesh address to peers, reached by the test at its access address.
   */
  startNode(
    index: number,
    config: Partial<NodeConfigInput> & Pick<NodeConfigInput, 'nodeId'>,
    options: NodeProcessOptions = {},
  ): Promise<NodeProcess> {
    const host = this.host(index);
    return NodeProcess.start(
      { ...config, host: '0.0.0.0', advertiseHost: host.meshIp },
      { netns: host.netns, reachAt: host.accessIp },
      options,
    );
  }

  /** Deletes the links and namespaces; safe to call more than once. */
  destroy(): void {
    liveLabs.delete(this);
    // Deleting a namespace frees its veths only later, asynchronously: delete the
    // links in the root namespace first, so none outlives the test.
    for (const link of this.rootLinks.splice(0)) ipQuietly('link', 'del', link);
    for (const netns of this.namespaces.splice(0)) ipQuietly('netns', 'del', netns);
  }

  private host(index: number): NetnsHost {
    const host = this.hosts[index];
    if (!host) throw new Error(`the lab has no host ${index}`);
    return host;
  }

  private end(index: number): { switchPort: string; rootLink: string; rootIp: string } {
    const end = this.ends[index];
    if (!end) throw new Error(`the lab has no host ${index}`);
    return end;
  }

  private addNamespace(name: string): string {
    ip('netns', 'add', name);
    this.namespaces.push(name);
    ip('-n', name, 'link', 'set', 'lo', 'up');
    return name;
  }

  private build(size: number, accessPrefix: string): void {
    const switchNs = this.addNamespace(`meshchat-${this.tag}-sw`);
    this.switchNs = switchNs;
    ip('-n', switchNs, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', switchNs, 'link', 'set', 'br0', 'up');
    for (let i = 0; i < size; i++) {
      const netns = this.addNamespace(`meshchat-${this.tag}-h${i + 1}`);
      const meshIp = `${MESH_PREFIX}.${i + 1}`;
      const port = `port${i + 1}`;
      ip('-n', netns, 'link', 'add', 'mesh', 'type', 'veth', 'peer', 'name', port, 'netns', switchNs);
      ip('-n', switchNs, 'link', 'set', port, 'master', 'br0', 'up');
      ip('-n', netns, 'addr', 'add', `${meshIp}/24`, 'dev', 'mesh');
      ip('-n', netns, 'link', 'set', 'mesh', 'up');

      // A /30 per host out of the lab's /24: .4i+1 on the test's side, .4i+2 on the host's.
      const rootLink = `mc${this.tag}a${i + 1}`;
      const rootIp = `${accessPrefix}.${4 * i + 1}`;
      const accessIp = `${accessPrefix}.${4 * i + 2}`;
      ip('link', 'add', rootLink, 'type', 'veth', 'peer', 'name', 'access', 'netns', netns);
      this.rootLinks.push(rootLink);
      ip('addr', 'add', `${rootIp}/30`, 'dev', rootLink);
      ip('link', 'set', rootLink, 'up');
      ip('-n', netns, 'addr', 'add', `${accessIp}/30`, 'dev', 'access');
      ip('-n', netns, 'link', 'set', 'access', 'up');
      this.hosts.push({ netns, meshIp, accessIp });
      this.ends.push({ switchPort: port, rootLink, rootIp });
    }
  }
}

/**
 * A lab of `size` hosts with a node process in each and one fresh cluster secret; as
 * in startProcessCluster, the first node is every other node's only seed.
 */
export async function startNetnsCluster(
  size: number,
  options: ProcessClusterOptions = {},
): Promise<{ lab: NetnsLab; nodes: NodeProcess[] }> {
  const lab = NetnsLab.create(size);
  const prefix = options.prefix ?? 'n';
  const clusterSecret = `secret-${randomBytes(12).toString('hex')}`;
  const first = await lab.startNode(0, { clusterSecret, ...options.config, nodeId: `${prefix}1` });
  const rest = await Promise.all(
    Array.from({ length: size - 1 }, (_, i) =>
      lab.startNode(i + 1, {
        clusterSecret,
        ...options.config,
        nodeId: `${prefix}${i + 2}`,
        seeds: [first.advertised.peers],
      }),
    ),
  );
  return { lab, nodes: [first, ...rest] };
}

/** A 10.x.y /24 that no route of the root namespace touches, for a lab's access links. */
function freeAccessPrefix(): string {
  const routes = ip('-4', 'route', 'show', 'table', 'all');
  for (let attempt = 0; attempt < 100; attempt++) {
    const prefix = `10.${randomInt(200, 250)}.${randomInt(0, 256)}`;
    if (!routes.includes(`${prefix}.`)) return prefix;
  }
  throw new Error('found no free 10.x.y.0/24 for the access links');
}

function ip(...args: string[]): string {
  try {
    return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? '').trim();
    throw new Error(`ip ${args.join(' ')} failed: ${stderr || (err as Error).message}`);
  }
}

function ipQuietly(...args: string[]): void {
  try {
    ip(...args);
  } catch {
    // Already gone.
  }
}

function tc(...args: string[]): void {
  try {
    execFileSync('tc', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? '').trim();
    throw new Error(`tc ${args.join(' ')} failed: ${stderr || (err as Error).message}`);
  }
}

function tcQuietly(...args: string[]): void {
  try {
    tc(...args);
  } catch {
    // No shape to lift.
  }
}
