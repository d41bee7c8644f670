import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { NODE_CONFIG, RESTART_TRIES } from './constants.js';
import { type ClusterView, fetchCluster, type NodeProcess, waitFor } from './harness.js';
import type { HistoryWriter } from './history.js';
import type { FaultLayer } from './layers/fault-layer.js';

const LAST_LINES = 5;

// What the run did to a node, so its exit is put down to the run, or to the node itself.
type Cause = 'kill' | 'stop' | 'starting';

/**
 * The run's node processes, started on a fault layer: node ids n1, n2, ...; each node's
 * config and data under `<runDir>/nodes/<id>/` and its output in `<runDir>/nodes/<id>.log`.
 * Every exit goes into the history with what caused it: a kill -9 or SIGTERM of the
 * run's, or nothing (the node exited on its own).
 */
export class ChaosCluster {
  readonly nodes: NodeProcess[] = [];
  private readonly causes = new Map<number, Cause>();
  private readonly logs: WriteStream[] = [];

  private constructor(private readonly history: HistoryWriter) {}

  /**
   * Starts `size` nodes with one fresh cluster secret: the first alone, the others with
   * the first as their seed (they find each other by gossip), then waits for a full mesh.
   */
  static async start(layer: FaultLayer, size: number, runDir: string, history: HistoryWriter): Promise<ChaosCluster> {
    const cluster = new ChaosCluster(history);
    const clusterSecret = `chaos-${randomBytes(12).toString('hex')}`;
    const start = async (index: number, seeds: string[]) => {
      const nodeId = `n${index + 1}`;
      const dir = join(runDir, 'nodes', nodeId);
      mkdirSync(dir, { recursive: true });
      const log = createWriteStream(join(runDir, 'nodes', `${nodeId}.log`));
      cluster.logs[index] = log;
      cluster.causes.set(index, 'starting');
      const node = await layer.startNode(
        index,
        { ...NODE_CONFIG, nodeId, clusterSecret, seeds },
        {
          dir,
          onOutput: (line) => log.write(`${line}\n`),
          onExit: ({ code, signal }) => cluster.onExit(index, code, signal),
        },
      );
      cluster.nodes[index] = node;
      cluster.causes.delete(index);
      history.record({ type: 'node-start', node: nodeId, restart: false });
      return node;
    };
    const first = await start(0, []);
    await Promise.all(Array.from({ length: size - 1 }, (_, i) => start(i + 1, [first.advertised.peers])));
    await cluster.waitForMesh();
    return cluster;
  }

  get nodeIds(): string[] {
    return this.nodes.map((n) => n.nodeId);
  }

  /** kill -9 (resumed first if stopped, so the kill lands). */
  async kill(index: number): Promise<void> {
    this.causes.set(index, 'kill');
    await this.node(index).kill();
  }

  /**
   * SIGTERM, as an operator stops a node; one that does not exit in time is killed
   * (its exit stays put down to the SIGTERM, so the checker reports the hang).
   */
  async stop(index: number): Promise<void> {
    const node = this.node(index);
    if (!node.isRunning) return;
    this.causes.set(index, 'stop');
    try {
      await node.stop();
    } catch (err) {
      this.history.record({ type: 'note', text: `${node.nodeId}: ${(err as Error).message}` });
      await node.kill();
    }
  }

  pause(index: number): void {
    this.node(index).pause();
  }

  resume(index: number): void {
    this.node(index).resume();
  }

  /** Starts a stopped node again on its data dir and ports; a start that fails is tried again. */
  async restart(index: number): Promise<void> {
    const node = this.node(index);
    let lastError: unknown;
    for (let attempt = 1; attempt <= RESTART_TRIES; attempt++) {
      this.causes.set(index, 'starting');
      try {
        await node.restart();
        this.causes.delete(index);
        this.history.record({ type: 'node-start', node: node.nodeId, restart: true });
        return;
      } catch (err) {
        lastError = err;
        this.history.record({
          type: 'note',
          text: `${node.nodeId}: restart ${attempt} failed: ${(err as Error).message}`,
        });
        await node.kill();
      }
    }
    throw new Error(`${node.nodeId} did not restart in ${RESTART_TRIES} tries`, { cause: lastError });
  }

  /** Indexes of the nodes running now (paused ones included). */
  liveIndexes(): number[] {
    return this.nodes.flatMap((node, index) => (node.isRunning ? [index] : []));
  }

  /** Polls until every live node sees every other live node alive and linked. */
  async waitForMesh(timeoutMs = 15_000): Promise<void> {
    const live = this.liveIndexes().map((i) => this.node(i));
    const ids = live.map((n) => n.nodeId);
    await waitFor(
      async () => {
        const views = (await this.views(live)) ?? [];
        return (
          views.length === live.length &&
          views.every((view) =>
            ids
              .filter((id) => id !== view.nodeId)
              .every((id) => view.members.some((m) => m.nodeId === id && m.state === 'alive' && m.isLinked)),
          )
        );
      },
      `a full mesh of ${ids.join(', ')}`,
      timeoutMs,
    );
  }

  /** GET /cluster of `nodes`; undefined while one does not answer. */
  async views(nodes: readonly NodeProcess[]): Promise<ClusterView[] | undefined> {
    try {
      return await Promise.all(nodes.map((n) => fetchCluster(n.addresses.http)));
    } catch {
      return undefined;
    }
  }

  /** SIGTERM to every running node, at once; resolves when all have exited and their logs are written. */
  async stopAll(): Promise<void> {
    await Promise.all(this.liveIndexes().map((i) => this.stop(i)));
    await Promise.all(
      this.logs.map(async (log) => {
        log.end();
        await once(log, 'finish');
      }),
    );
  }

  private node(index: number): NodeProcess {
    const node = this.nodes[index];
    if (!node) throw new Error(`no node ${index}`);
    return node;
  }

  private onExit(index: number, code: number | null, signal: NodeJS.Signals | null): void {
    const node = this.nodes[index];
    const nodeId = node?.nodeId ?? `n${index + 1}`;
    const cause = this.causes.get(index);
    this.causes.delete(index);
    const lastLines = node?.raw.slice(-LAST_LINES - 1, -1) ?? [];
    if (cause === 'starting') {
      this.history.record({ type: 'note', text: `${nodeId} exited while starting (code ${code}, signal ${signal})` });
      return;
    }
    this.history.record({
      type: 'node-exit',
      node: nodeId,
      code,
      signal,
      cause: cause ?? null,
      ...(cause === undefined ? { lastLines } : {}),
    });
  }
}
