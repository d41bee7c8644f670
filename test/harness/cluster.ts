import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNode, NodeConfig, type NodeConfigInput } from '@meshchat/node';
import pino from 'pino';
import { onCleanup } from './cleanup.js';
import { attachLogsOnFailure, type LogLine, logsMatching } from './node-logs.js';
import type { TestNode } from './nodes.js';
import { type ClusterView, NodeProcess } from './processes.js';
import { testConfig } from './test-config.js';
import { waitFor } from './wait.js';

export { attachLogsOnFailure, formatLogLine, type LogLine, type LogSource, logsMatching } from './node-logs.js';
export {
  type ClusterView,
  fetchCluster,
  type NodeAddresses,
  NodeProcess,
  type ProcessClusterOptions,
  startProcessCluster,
} from './processes.js';

/** An in-process node whose log lines are kept (and shown when the test fails). */
export interface LoggedNode extends TestNode {
  readonly logs: LogLine[];
}

/** A node of either kind: its cluster view is read in-process or over GET /cluster. */
export type AnyNode = LoggedNode | TestNode | NodeProcess;

/**
 * Like the harness's startNode (ephemeral ports, temp data dir, stopped after the
 * test), with the node's log captured at `logLevel` (info by default) so tests can
 * assert on what it logged.
 */
export async function startLoggedNode(
  overrides: Partial<NodeConfigInput> & Pick<NodeConfigInput, 'nodeId'>,
  logLevel = 'info',
): Promise<LoggedNode> {
  const dataDir = mkdtempSync(join(tmpdir(), 'meshchat-test-'));
  const config = NodeConfig.parse(testConfig(dataDir, overrides));
  const logs: LogLine[] = [];
  const log = pino(
    { level: logLevel, base: { nodeId: config.nodeId } },
    { write: (line: string) => logs.push(JSON.parse(line) as LogLine) },
  );
  attachLogsOnFailure({ name: config.nodeId, lines: logs, raw: [] });
  const node = await createNode(config, { log });
  onCleanup(async () => {
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const address = `${node.clientAddress.host}:${node.clientAddress.port}`;
  return Object.assign(node, { address, dataDir, logs });
}

/** The client address a test connects to. */
export function clientAddressOf(node: AnyNode): string {
  return node instanceof NodeProcess ? node.addresses.clients : node.address;
}

export async function clusterViewOf(node: AnyNode): Promise<ClusterView> {
  return node instanceof NodeProcess ? node.cluster() : node.clusterView();
}

/** Log lines of a node whose msg contains `text` and whose fields match. */
export function logsOf(node: LoggedNode | NodeProcess, text: string, fields: Record<string, unknown> = {}): LogLine[] {
  return logsMatching(node.logs, text, fields);
}

/** One line per observer: how it sees each member, e.g. `n1: n2=alive+linked n3=suspect`. */
export function describeViews(views: readonly ClusterView[]): string {
  return views
    .map((v) => {
      const others = v.members
        .filter((m) => !m.isSelf)
        .map((m) => `${m.nodeId}=${m.state}${m.isLinked ? '+linked' : ''}@${m.incarnation}`);
      return `${v.nodeId}: ${others.join(' ') || '(no members)'}`;
    })
    .join('\n');
}

/**
 * Polls until every node sees every other one alive and linked (a full mesh), and
 * returns the views. Members outside `nodes` (a dead node, an intruder) are ignored.
 */
export async function waitForFullMesh(nodes: readonly AnyNode[], timeoutMs = 15_000): Promise<ClusterView[]> {
  const ids = nodes.map((n) => n.nodeId);
  return waitForViews(
    nodes,
    (views) =>
      views.every((view) =>
        ids
          .filter((id) => id !== view.nodeId)
          .every((id) => view.members.some((m) => m.nodeId === id && m.state === 'alive' && m.isLinked)),
      ),
    `a full mesh of ${ids.join(', ')}, every link up and every member alive`,
    timeoutMs,
  );
}

/** Polls until every observer holds `subject` in one of `states`. */
export async function waitForMemberState(
  observers: readonly AnyNode[],
  subject: string,
  states: readonly ClusterView['members'][number]['state'][],
  timeoutMs = 15_000,
): Promise<ClusterView[]> {
  return waitForViews(
    observers,
    (views) => views.every((v) => v.members.some((m) => m.nodeId === subject && states.includes(m.state))),
    `${observers.map((n) => n.nodeId).join(', ')} to hold ${subject} ${states.join(' or ')}`,
    timeoutMs,
  );
}

/**
 * Polls the views of `nodes` until `holds` accepts them; on timeout the error shows
 * the last views, so a failure says who saw whom how.
 */
export async function waitForViews(
  nodes: readonly AnyNode[],
  holds: (views: ClusterView[]) => boolean,
  what: string,
  timeoutMs = 15_000,
): Promise<ClusterView[]> {
  let last: ClusterView[] = [];
  let lastError: unknown;
  try {
    await waitFor(
      async () => {
        try {
          last = await Promise.all(nodes.map(clusterViewOf));
          lastError = undefined;
          return holds(last);
        } catch (err) {
          lastError = err;
          return false;
        }
      },
      what,
      timeoutMs,
    );
  } catch (err) {
    const detail = lastError ? `last error: ${lastError}` : `last views:\n${describeViews(last)}`;
    throw new Error(`${(err as Error).message}\n${detail}`);
  }
  return last;
}
