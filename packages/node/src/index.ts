/**
 * @packageDocumentation
 * A meshchat server node.
 *
 * ```ts
 * import { createNode, loadConfig, createLogger } from '@meshchat/node';
 * const config = loadConfig('config/node-a.json');
 * const node = await createNode(config, { log: createLogger(config.nodeId, 'info') });
 * // ... later
 * await node.stop();
 * ```
 */
export { type MintTokenOptions, mintToken } from './auth/mint-token.js';
export { ChatService } from './chat/chat-service.js';
export { loadConfig } from './config/load.js';
export { NodeConfig, type NodeConfigInput } from './config/schema.js';
export { type ChatNode, type CreateNodeOptions, createNode } from './create-node.js';
export { ChatError, ConfigError, StartupError, StoreError } from './errors.js';
export { createLogger } from './log.js';
export { PushPlan, type PushPlanDeps } from './replication/push-plan.js';
export { WriteQuorum, type WriteQuorumDeps } from './replication/write-quorum.js';
export { LmdbStore, type LmdbStoreOptions, STORE_FORMAT_VERSION } from './store/lmdb-store.js';
export { MemoryStore } from './store/memory-store.js';
export type { AppendEntry, AppendOptions, HistoryPage, MessageStore, VersionVector } from './store/message-store.js';
