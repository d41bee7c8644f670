import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ChatNode, NodeConfigInput } from '@meshchat/node';
import { registerCleanup, registerNodeLog } from './host.js';
import { type LogLine, logsMatching } from './log-lines.js';
import { testConfig } from './test-config.js';
import { waitFor } from './wait.js';

/** What GET /cluster answers: the node's membership view and per-room version vectors. */
export type ClusterView = ReturnType<ChatNode['clusterView']>;

// Beside the package's entry, resolved the same from test/harness and its compiled dist/.
const MAIN = join(dirname(createRequire(import.meta.url).resolve('@meshchat/node')), 'main.js');
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;

export interface NodeAddresses {
  clients: string;
  peers: string;
  http: string;
}

/**
 * Where a node process runs: inside network namespace `netns` (`ip netns exec`), its
 * listeners reached from the test process at `reachAt` (the host of the namespace's
 * link to the test), not at the address it advertises to its peers. Without `netns`
 * the node runs here and advertises a host where proxies stand in front of it, while
 * the test reaches its own listeners at `reachAt`.
 */
export interface NetnsPlacement {
  netns?: string;
  reachAt: string;
}

export interface NodeProcessOptions {
  /**
   * The directory for the config file and data dir, owned by the caller (kept after
   * the node is gone); a fresh temp dir, removed with the node, when not given.
   */
  dir?: string;
  /** Every line the process writes (stdout or stderr), as it comes. */
  onOutput?: (line: string) => void;
  /** Every exit of the process, whoever caused it. */
  onExit?: (exit: { code: number | null; signal: NodeJS.Signals | null }) => void;
}

// Every child still running, so a worker that dies without its afterEach does not
// leave nodes behind.
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  }
});

/**
 * A node as a real process (`node packages/node/dist/main.js --config <file>`), for
 * faults only a process has: kill -9, SIGSTOP/SIGCONT, restart on the same data dir.
 * Its JSON log lines are collected and shown when the test fails; the process is
 * killed after the test whatever state it is in.
 */
export class NodeProcess {
  readonly logs: LogLine[] = [];
  /** Output that was not a JSON log line (stderr, crash traces). */
  readonly raw: string[] = [];
  private child: ChildProcess | undefined;
  private listening: NodeAddresses | undefined;
  private advertisedNow: NodeAddresses | undefined;
  private exit: Promise<void> = Promise.resolve();
  private isPausedNow = false;

  private constructor(
    readonly nodeId: string,
    readonly configFile: string,
    readonly dataDir: string,
    private readonly placement: NetnsPlacement | undefined,
    private readonly options: NodeProcessOptions,
  ) {}

  /**
   * Writes the config (ports 0 unless given, a temp data dir) and starts the node;
   * resolves once it logged "node listening". The config file is then rewritten with
   * the ports it got, so restart() brings it back at the same addresses, where the
   * rest of the cluster (and its seeds) look for it.
   */
  static async start(
    config: Partial<NodeConfigInput> & Pick<NodeConfigInput, 'nodeId'>,
    placement?: NetnsPlacement,
    options: NodeProcessOptions = {},
  ): Promise<NodeProcess> {
    const dir = options.dir ?? mkdtempSync(join(tmpdir(), `meshchat-proc-${config.nodeId}-`));
    const dataDir = join(dir, 'data');
    mkdirSync(dataDir, { recursive: true });
    const full = testConfig(dataDir, config);
    const node = new NodeProcess(config.nodeId, join(dir, 'config.json'), dataDir, placement, options);
    writeFileSync(node.configFile, JSON.stringify(full, null, 2));
    registerCleanup(async () => {
      await node.kill();
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    });
    registerNodeLog({ name: node.nodeId, lines: node.logs, raw: node.raw });
    const addresses = await node.spawn();
    writeFileSync(
      node.configFile,
      JSON.stringify(
        {
          ...full,
          clientPort: port(addresses.clients),
          peerPort: port(addresses.peers),
          httpPort: port(addresses.http),
        },
        null,
        2,
      ),
    );
    return node;
  }

  /** The addresses the node reported when it last started, as the test process reaches them. */
  get addresses(): NodeAddresses {
    if (!this.listening) throw new Error(`${this.nodeId} has not started`);
    return this.listening;
  }

  /**
   * The addresses the node advertises to its peers (seeds are given these). They are
   * `addresses` unless the node runs in a network namespace.
   */
  get advertised(): NodeAddresses {
    if (!this.advertisedNow) throw new Error(`${this.nodeId} has not started`);
    return this.advertisedNow;
  }

  get isRunning(): boolean {
    return this.child !== undefined;
  }

  get isPaused(): boolean {
    return this.isPausedNow;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** kill -9: no shutdown, sockets closed by the kernel. Resolves once it has exited. */
  async kill(): Promise<void> {
    const child = this.child;
    if (child) {
      // A stopped process keeps a pending SIGKILL until it runs again.
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    }
    this.isPausedNow = false;
    await this.exit;
  }

  /**
   * SIGTERM: the node shuts down as an operator stops it (clients told, store closed).
   * Resolves once it has exited; fails if it does not exit in time or exits non-zero.
   */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      exited,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${this.nodeId} did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM`)),
          STOP_TIMEOUT_MS,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    await this.exit;
    if (code !== 0) throw new Error(`${this.nodeId} exited with code ${code} on SIGTERM: ${this.raw.join('\n')}`);
  }

  /** SIGSTOP: the process hangs with its sockets open, as a node stuck in GC or swap. */
  pause(): void {
    this.child?.kill('SIGSTOP');
    this.isPausedNow = true;
  }

  resume(): void {
    this.child?.kill('SIGCONT');
    this.isPausedNow = false;
  }

  /**
   * Starts the node again from the same config file and data dir (after kill()).
   * `wipeData` empties the data dir first: a node whose disk was lost or replaced.
   */
  async restart(options: { wipeData?: boolean } = {}): Promise<NodeAddresses> {
    if (this.child) throw new Error(`${this.nodeId} is still running; kill() it first`);
    if (options.wipeData) {
      rmSync(this.dataDir, { recursive: true, force: true });
      mkdirSync(this.dataDir);
    }
    const how = options.wipeData ? 'with an empty data dir' : 'on the same data dir';
    const note: LogLine = { level: 30, time: Date.now(), msg: `---- restarted by the test ${how} ----` };
    this.logs.push(note);
    this.options.onOutput?.(JSON.stringify(note));
    return this.spawn();
  }

  /** GET /cluster of this node. */
  async cluster(): Promise<ClusterView> {
    return fetchCluster(this.addresses.http);
  }

  /** Lines whose msg contains `text` and whose fields match. */
  logsMatching(text: string, fields: Record<string, unknown> = {}): LogLine[] {
    return logsMatching(this.logs, text, fields);
  }

  async waitForLog(text: string, fields: Record<string, unknown> = {}, timeoutMs = 10_000): Promise<LogLine> {
    await waitFor(
      () => this.logsMatching(text, fields).length > 0,
      `${this.nodeId} to log "${text}" ${JSON.stringify(fields)}`,
      timeoutMs,
    );
    return this.logsMatching(text, fields)[0] as LogLine;
  }

  // An advertised address as the test process reaches it.
  private reachable(advertised: string): string {
    return this.placement ? `${this.placement.reachAt}:${port(advertised)}` : advertised;
  }

  private spawn(): Promise<NodeAddresses> {
    const command = [process.execPath, MAIN, '--config', this.configFile];
    // `ip netns exec` execs the command in place: the child's pid is the node's own,
    // so kill(), pause() and stop() signal the node itself.
    const netns = this.placement?.netns;
    const [file, ...args] = netns ? ['ip', 'netns', 'exec', netns, ...command] : command;
    const child = spawn(file as string, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    running.add(child);
    this.exit = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        running.delete(child);
        if (this.child === child) this.child = undefined;
        this.raw.push(`process exited (code ${code}, signal ${signal})`);
        this.options.onExit?.({ code, signal });
        resolve();
      });
    });
    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (line) => {
      this.raw.push(line);
      this.options.onOutput?.(line);
    });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${this.nodeId} did not log "node listening" within ${START_TIMEOUT_MS} ms`));
      }, START_TIMEOUT_MS);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${this.nodeId} exited at startup (code ${code}, signal ${signal}): ${this.raw.join('\n')}`));
      });
      createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (text) => {
        this.options.onOutput?.(text);
        let line: LogLine;
        try {
          line = JSON.parse(text) as LogLine;
        } catch {
          this.raw.push(text);
          return;
        }
        this.logs.push(line);
        if (line.msg === 'node listening') {
          clearTimeout(timer);
          this.advertisedNow = { clients: String(line.clients), peers: String(line.peers), http: String(line.http) };
          const reached = (address: string) => this.reachable(address);
          const { clients, peers, http } = this.advertisedNow;
          this.listening = { clients: reached(clients), peers: reached(peers), http: reached(http) };
          resolve(this.listening);
        }
      });
    });
  }
}

export interface ProcessClusterOptions {
  /** Node ids are `${prefix}1`, `${prefix}2`, ... */
  prefix?: string;
  /** Config given to every node (heartbeat timings, antiEntropyMs, ...). */
  config?: Partial<NodeConfigInput>;
}

/**
 * Starts `size` node processes with one fresh cluster secret. The first starts alone;
 * the others each get the first as their only seed and must discover the rest by gossip.
 */
export async function startProcessCluster(size: number, options: ProcessClusterOptions = {}): Promise<NodeProcess[]> {
  const prefix = options.prefix ?? 'n';
  const clusterSecret = `secret-${randomBytes(12).toString('hex')}`;
  const first = await NodeProcess.start({ clusterSecret, ...options.config, nodeId: `${prefix}1` });
  const rest = await Promise.all(
    Array.from({ length: size - 1 }, (_, i) =>
      NodeProcess.start({
        clusterSecret,
        ...options.config,
        nodeId: `${prefix}${i + 2}`,
        seeds: [first.addresses.peers],
      }),
    ),
  );
  return [first, ...rest];
}

/** GET http://<address>/cluster. */
export async function fetchCluster(httpAddress: string): Promise<ClusterView> {
  const response = await fetch(`http://${httpAddress}/cluster`);
  if (!response.ok) throw new Error(`GET ${httpAddress}/cluster: HTTP ${response.status}`);
  return (await response.json()) as ClusterView;
}

function port(address: string): number {
  return Number(address.slice(address.lastIndexOf(':') + 1));
}
