// The one test harness: nodes on ephemeral ports, recording clients, raw sockets,
// polling waits and per-test cleanup. Every suite imports from here.
export { onCleanup } from './cleanup.js';
export { connectClient, type TestClient } from './clients.js';
export { FaultProxy } from './fault-proxy.js';
export { startNode, type TestNode } from './nodes.js';
export { RawConnection } from './raw-connection.js';
export { waitFor } from './wait.js';
