// What the runtime-neutral part of the harness (node processes, proxies, network
// namespaces) asks of whoever runs it: somewhere to register the teardown of what it
// starts, and somewhere to hand a node's log. Under vitest, cleanup.ts and node-logs.ts
// route these to the current test; the chaos run (chaos/) routes them to its own end.
import type { LogSource } from './log-lines.js';

/** Undoes something the harness started: kills a process, closes a proxy, deletes a namespace. */
export type Cleanup = () => unknown | Promise<unknown>;

// Teardowns registered before anyone routed them wait here, so none is lost to import order.
const pending: Cleanup[] = [];
let cleanups: (cleanup: Cleanup) => void = (cleanup) => pending.push(cleanup);
let nodeLogs: (source: LogSource) => void = () => {};

export function registerCleanup(cleanup: Cleanup): void {
  cleanups(cleanup);
}

export function registerNodeLog(source: LogSource): void {
  nodeLogs(source);
}

/** Sends every teardown registered from now on (and any waiting) to `route`. */
export function routeCleanups(route: (cleanup: Cleanup) => void): void {
  cleanups = route;
  for (const cleanup of pending.splice(0)) route(cleanup);
}

export function routeNodeLogs(route: (source: LogSource) => void): void {
  nodeLogs = route;
}
