// Defaults of the cluster status command, each with the reason for its value.

// node-a's HTTP port in the local demo cluster (config/node-a.json).
export const DEFAULT_STATUS_NODE = '127.0.0.1:7201';

// A live node answers /cluster in milliseconds; a paused (SIGSTOP) or cut-off node
// accepts the connection and never answers, so the command gives up after this.
export const DEFAULT_STATUS_TIMEOUT_MS = 3000;

// `pnpm token` signs with the local demo cluster's secret unless told otherwise.
export const DEFAULT_TOKEN_CONFIG = 'config/node-a.json';
