import { fileURLToPath } from 'node:url';

// Resolved from this file's place in bench/dist, so the bench runs from any directory.
const fromRoot = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));

export const REPO_ROOT = fromRoot('');
/** The node's entry point, run as a real process for every cluster the bench starts. */
export const NODE_MAIN = fromRoot('packages/node/dist/main.js');
/** The local demo cluster's config: the bench takes its heartbeat timings and limits. */
export const DEMO_NODE_CONFIG = fromRoot('config/node-a.json');
/** Git-ignored output: CPU profiles. */
export const PROFILE_ROOT = fromRoot('.bench/profiles');

export const FANOUT_GENERATOR = fileURLToPath(new URL('./load/fanout-generator.js', import.meta.url));
export const FAILOVER_GENERATOR = fileURLToPath(new URL('./load/failover-generator.js', import.meta.url));
export const IDLE_CLIENTS = fileURLToPath(new URL('./load/idle-clients.js', import.meta.url));
export const STORE_FILLER = fileURLToPath(new URL('./load/store-filler.js', import.meta.url));
