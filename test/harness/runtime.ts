// The part of the harness that runs without vitest, compiled (tsconfig.json here) so
// tools outside the test runner use the same processes, proxies and namespaces as the
// tests: the chaos run (chaos/) and the bench (bench/) import it from dist/. Whoever uses it routes the
// teardown of what it starts (routeCleanups) and, if it wants them, the nodes' logs.
export { type Cleanup, registerCleanup, routeCleanups, routeNodeLogs } from './host.js';
export { type MetricSample, parseMetrics, sampleValue } from './http-get.js';
export { LinkFaults, PROXY_HOST } from './link-faults.js';
export { formatLogLine, type LogLine, type LogSource, logsMatching } from './log-lines.js';
export { type LinkShape, type NetnsHost, NetnsLab, type NetnsSupport, probeNetns } from './netns.js';
export {
  type ClusterView,
  fetchCluster,
  type NetnsPlacement,
  type NodeAddresses,
  NodeProcess,
  type NodeProcessOptions,
} from './processes.js';
export { buildInSeedOrder } from './seed-order.js';
export { SilentProxy } from './silent-proxy.js';
export { readStoreContents, type StoredRoom } from './store-contents.js';
export { waitFor } from './wait.js';
