import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { removeTempDir, trackChild, trackTempDir } from './cleanup.js';
import { MESH_TIMEOUT_MS, NODE_START_TIMEOUT_MS, NODE_STOP_TIMEOUT_MS } from './constants.js';
import type { BenchNodeSettings } from './node-settings.js';
import { NODE_MAIN } from './paths.js';

export interface ClusterOptions {
  size: number;
  settings: BenchNodeSettings;
  /** Start every node with `node --cpu-prof`, profiles written here when it stops. */
  cpuProfileDir?: string;
  /** Fills a node's (new, empty) data directory before the node first starts on it. */
  prepareDataDir?: (dataDir: string, nodeId: string) => Promise<void>;
}

export class BenchNode {
  isPaused = false;
  readonly exited: Promise<void>;

  constructor(
    readonly nodeId: string,
    readonly process: ChildProcess,
    readonly clientAddress: string,
    readonly peerAddress: string,
    readonly httpAddress: string,
    readonly dataDir: string,
    /** The end of what the node wrote to stderr, to explain an unexpected exit. */
    readonly stderrTail: () => string,
  ) {
    this.exited = new Promise((resolve) => {
      if (this.hasExited) resolve();
      else process.once('exit', () => resolve());
    });
  }

  get pid(): number {
    return this.process.pid as number;
  }

  get hasExited(): boolean {
    return this.process.exitCode !== null || this.process.signalCode !== null;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.hasExited) return;
    this.process.kill(signal);
    if (signal === 'SIGSTOP') this.isPaused = true;
    if (signal === 'SIGCONT') this.isPaused = false;
  }

  /**
   * SIGTERM lets the node close its sessions and exit on its own, which is also when
   * `--cpu-prof` writes the profile; one that does not stop in time is killed.
   */
  async stop(): Promise<void> {
    if (this.hasExited) return;
    if (this.isPaused) this.signal('SIGKILL');
    else this.signal('SIGTERM');
    const stopped = await Promise.race([this.exited.then(() => true), sleep(NODE_STOP_TIMEOUT_MS, false)]);
    if (!stopped) this.signal('SIGKILL');
    await this.exited;
  }
}

/**
 * A cluster of real node processes on ephemeral ports: the first node starts alone,
 * the others get it as their seed and find each other by gossip. Resolves once every
 * node sees every other one alive over a direct link.
 */
export class BenchCluster {
  private readonly secret = randomBytes(24).toString('hex');

  private constructor(
    readonly nodes: BenchNode[],
    private readonly dir: string,
    private readonly options: ClusterOptions,
  ) {}

  static async start(options: ClusterOptions): Promise<BenchCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'meshchat-bench-'));
    trackTempDir(dir);
    const nodes: BenchNode[] = [];
    const cluster = new BenchCluster(nodes, dir, options);
    const start = async (index: number, seeds: string[]) => {
      const nodeId = nodeIdOf(index);
      const dataDir = dataDirOf(dir, nodeId);
      mkdirSync(dataDir);
      await options.prepareDataDir?.(dataDir, nodeId);
      return cluster.launch(nodeId, seeds);
    };
    try {
      nodes.push(await start(0, []));
      const seed = (nodes[0] as BenchNode).peerAddress;
      // Each node joins `nodes` as soon as it runs, so a failure stops the started ones.
      const others = Array.from({ length: options.size - 1 }, (_, i) =>
        start(i + 1, [seed]).then((node) => nodes.push(node)),
      );
      await Promise.all(others);
      nodes.sort((a, b) => a.nodeId.localeCompare(b.nodeId));
      await cluster.waitUntilMeshed();
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  /**
   * Starts a stopped node again on its data directory (new ports), with a running node
   * as its seed; resolves once it listens, before it has rejoined the mesh.
   */
  async restart(nodeId: string): Promise<BenchNode> {
    const index = this.nodes.findIndex((n) => n.nodeId === nodeId);
    const old = this.nodes[index];
    if (!old?.hasExited) throw new Error(`restart: ${nodeId} is not a stopped node of this cluster`);
    const seed = this.nodes.find((n) => !n.hasExited);
    const node = await this.launch(nodeId, seed ? [seed.peerAddress] : []);
    this.nodes[index] = node;
    return node;
  }

  get clientAddresses(): string[] {
    return this.nodes.map((n) => n.clientAddress);
  }

  /** Nodes that exited on their own (crashed), with what they last wrote to stderr. */
  crashed(): string[] {
    return this.nodes
      .filter((n) => n.hasExited && !n.isPaused && n.process.signalCode !== 'SIGKILL')
      .map((n) => `${n.nodeId} exited (${n.process.signalCode ?? `code ${n.process.exitCode}`}): ${n.stderrTail()}`);
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
    removeTempDir(this.dir);
  }

  private launch(nodeId: string, seeds: string[]): Promise<BenchNode> {
    return startNode(this.dir, nodeId, { seeds, clusterSecret: this.secret }, this.options);
  }

  private async waitUntilMeshed(): Promise<void> {
    const deadline = Date.now() + MESH_TIMEOUT_MS;
    const ids = new Set(this.nodes.map((n) => n.nodeId));
    for (;;) {
      const views = await Promise.all(this.nodes.map((n) => fetchClusterView(n.httpAddress).catch(() => undefined)));
      const isComplete = views.every(
        (view) =>
          view !== undefined &&
          [...ids].every((id) =>
            view.members.some((m) => m.nodeId === id && m.state === 'alive' && (m.isSelf || m.isLinked)),
          ),
      );
      if (isComplete) return;
      if (Date.now() > deadline) {
        throw new Error(`the ${this.nodes.length} bench nodes did not form a full mesh within ${MESH_TIMEOUT_MS} ms`);
      }
      await sleep(50);
    }
  }
}

export interface ClusterViewMember {
  nodeId: string;
  state: 'alive' | 'suspect' | 'dead';
  isSelf: boolean;
  isLinked: boolean;
  /** Client sessions on that node. */
  clients: number;
}

/** A room as GET /cluster shows it: its version vector, a digest of it, and the sum of its seqs. */
export interface ClusterViewRoom {
  vector: Record<string, number>;
  digest: string;
  messages: number;
}

export interface ClusterView {
  members: ClusterViewMember[];
  rooms: Record<string, ClusterViewRoom>;
  replication: { heldBack: number; antiEntropyBacklog: number; antiEntropySent: number };
}

/** GET /cluster: the node's membership view, room vectors and replication counters. */
export async function fetchClusterView(httpAddress: string, timeoutMs = 2000): Promise<ClusterView> {
  const response = await fetch(`http://${httpAddress}/cluster`, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new Error(`GET http://${httpAddress}/cluster: HTTP ${response.status}`);
  return (await response.json()) as ClusterView;
}

const nodeIdOf = (index: number) => `bench-${String.fromCharCode(97 + index)}`;
const dataDirOf = (dir: string, nodeId: string) => join(dir, nodeId);

interface Listening {
  clients: string;
  peers: string;
  http: string;
}

async function startNode(
  dir: string,
  nodeId: string,
  cluster: { seeds: string[]; clusterSecret: string },
  { settings, cpuProfileDir }: ClusterOptions,
): Promise<BenchNode> {
  const dataDir = dataDirOf(dir, nodeId);
  const configFile = join(dir, `${nodeId}.json`);
  const config = { nodeId, cluster: 'meshchat-bench', host: '127.0.0.1', clientPort: 0, peerPort: 0, httpPort: 0 };
  const { heartbeat, limits, extra } = settings;
  const file = { ...config, dataDir, ...cluster, heartbeat, limits, logLevel: 'info', ...extra };
  writeFileSync(configFile, JSON.stringify(file, null, 2));
  const profileFlags = cpuProfileDir
    ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`, `--cpu-prof-name=${nodeId}.${Date.now()}.cpuprofile`]
    : [];
  const child = spawn(process.execPath, [...profileFlags, NODE_MAIN, '--config', configFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackChild(child);
  // The node logs JSON lines; all of them go to a file (the pipe must never fill up and
  // block the node), and the first "node listening" line gives the real ports.
  const logFile = join(dir, `${nodeId}.log`);
  // Appended to: a restarted node keeps its earlier life's log.
  const log = createWriteStream(logFile, { flags: 'a' });
  child.stdout?.pipe(log);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  try {
    const listening = await new Promise<Listening>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${nodeId} did not log "node listening" within ${NODE_START_TIMEOUT_MS} ms`)),
        NODE_START_TIMEOUT_MS,
      );
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${nodeId} exited during startup (${signal ?? `code ${code}`}): ${stderr.trim()}`));
      });
      // Lines are split by hand: readline would pause the stream when closed, and a
      // paused pipe would block the node's logging.
      let partial = '';
      const onData = (chunk: Buffer) => {
        const lines = (partial + chunk.toString()).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          const entry = parseLogLine(line);
          if (entry?.msg !== 'node listening') continue;
          clearTimeout(timer);
          child.stdout?.off('data', onData);
          resolve(entry as unknown as Listening);
          return;
        }
      };
      child.stdout?.on('data', onData);
    });
    return new BenchNode(nodeId, child, listening.clients, listening.peers, listening.http, dataDir, () =>
      stderr.trim(),
    );
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
}

function parseLogLine(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
