import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ChatNode, createNode, type MessageStore, NodeConfig, type NodeConfigInput } from '@meshchat/node';
import pino from 'pino';
import { onCleanup } from './cleanup.js';
import { testConfig } from './test-config.js';

export { testConfig } from './test-config.js';

let nodeCounter = 0;

export interface TestNode extends ChatNode {
  /** "127.0.0.1:port" of the client listener. */
  readonly address: string;
  readonly dataDir: string;
}

/**
 * Starts an in-process node on ephemeral ports with a temp data dir, stopped after
 * the test. Logs are silent unless MESHCHAT_TEST_LOG is set (e.g. to "debug").
 */
export async function startNode(
  overrides: Partial<NodeConfigInput> = {},
  options: { store?: MessageStore } = {},
): Promise<TestNode> {
  const dataDir = mkdtempSync(join(tmpdir(), 'meshchat-test-'));
  const config = NodeConfig.parse(testConfig(dataDir, { nodeId: `node-${++nodeCounter}`, ...overrides }));
  const log = pino({ level: process.env.MESHCHAT_TEST_LOG ?? 'silent', base: { nodeId: config.nodeId } });
  const node = await createNode(config, { log, ...options });
  onCleanup(async () => {
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const address = `${node.clientAddress.host}:${node.clientAddress.port}`;
  return Object.assign(node, { address, dataDir });
}
