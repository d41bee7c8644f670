import { afterEach } from 'vitest';
import { type Cleanup, routeCleanups } from './host.js';

const cleanups: Cleanup[] = [];

/** Registers something to undo after the current test, newest first. */
export function onCleanup(cleanup: Cleanup): void {
  cleanups.push(cleanup);
}

// What node processes, proxies and namespaces register goes with the current test too.
routeCleanups(onCleanup);

afterEach(async () => {
  const errors: unknown[] = [];
  while (cleanups.length > 0) {
    const cleanup = cleanups.pop() as Cleanup;
    try {
      await cleanup();
    } catch (err) {
      errors.push(err);
    }
  }
  if (errors.length > 0) throw errors[0];
});
