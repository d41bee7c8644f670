import { randomBytes } from 'node:crypto';
import type { NodeConfigInput } from '@meshchat/node';
import { parseHostPort } from '@meshchat/protocol';
import { type LoggedNode, startLoggedNode } from './cluster.js';
import { LinkFaults, PROXY_HOST } from './link-faults.js';

export interface FaultyClusterOptions {
  /** Node ids are `${prefix}1`, `${prefix}2`, ... */
  prefix?: string;
  config?: Partial<NodeConfigInput>;
}

/**
 * In-process nodes whose every peer link passes through `faults` (see LinkFaults).
 * The first node is every other node's only seed.
 */
export async function startFaultyCluster(
  size: number,
  options: FaultyClusterOptions = {},
): Promise<{ nodes: LoggedNode[]; faults: LinkFaults }> {
  const faults = LinkFaults.create();
  const prefix = options.prefix ?? 'n';
  const clusterSecret = `secret-${randomBytes(12).toString('hex')}`;
  const nodes: LoggedNode[] = [];
  for (let i = 1; i <= size; i++) {
    const first = nodes[0];
    const node = await startLoggedNode({
      clusterSecret,
      ...options.config,
      nodeId: `${prefix}${i}`,
      advertiseHost: PROXY_HOST,
      seeds: first ? [first.peerAddress] : [],
    });
    // Peers that learn the advertised address before the proxy listens retry with backoff.
    const { port: peerPort } = parseHostPort(node.peerAddress);
    await faults.front(node.nodeId, node.peerAddress, `127.0.0.1:${peerPort}`);
    nodes.push(node);
  }
  return { nodes, faults };
}
