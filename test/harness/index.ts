// The one test harness: nodes on ephemeral ports, recording clients, raw sockets,
// polling waits and per-test cleanup. Every suite imports from here.

export { type CertFiles, makeTestCerts, type TestCerts } from './certs.js';
export { onCleanup } from './cleanup.js';
export { connectClient, type TestClient } from './clients.js';
export {
  type AnyNode,
  attachLogsOnFailure,
  type ClusterView,
  clientAddressOf,
  clusterViewOf,
  describeViews,
  fetchCluster,
  formatLogLine,
  type LoggedNode,
  type LogLine,
  type LogSource,
  logsMatching,
  logsOf,
  type NodeAddresses,
  NodeProcess,
  type ProcessClusterOptions,
  startLoggedNode,
  startProcessCluster,
  waitForFullMesh,
  waitForMemberState,
  waitForViews,
} from './cluster.js';
export { FaultProxy } from './fault-proxy.js';
export { type FaultyClusterOptions, startFaultyCluster } from './faulty-cluster.js';
export { type HttpAnswer, httpGet, type MetricSample, parseMetrics, sampleValue } from './http-get.js';
export { LinkFaults } from './link-faults.js';
export { type LinkShape, type NetnsHost, NetnsLab, type NetnsSupport, probeNetns, startNetnsCluster } from './netns.js';
export { startNode, type TestNode } from './nodes.js';
export type { NetnsPlacement, NodeProcessOptions } from './processes.js';
export { RawConnection } from './raw-connection.js';
export { readStoreContents, type StoredRoom } from './store-contents.js';
export { waitFor } from './wait.js';
