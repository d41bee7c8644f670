import type { NodeConfigInput } from '@meshchat/node';

/** The config every test node starts from: loopback, ports 0, one shared secret. */
export function testConfig(
  dataDir: string,
  overrides: Partial<NodeConfigInput> & Pick<NodeConfigInput, 'nodeId'>,
): NodeConfigInput {
  return {
    host: '127.0.0.1',
    clientPort: 0,
    peerPort: 0,
    httpPort: 0,
    dataDir,
    clusterSecret: 'test-cluster-secret-0123456789',
    ...overrides,
  };
}
