import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

// Everything the bench started or created, so that it is undone on any exit: normal
// end, an error, Ctrl-C or SIGTERM. Killing is synchronous so it also works from the
// 'exit' handler.
const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();

export function trackChild(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

export function trackTempDir(dir: string): void {
  tempDirs.add(dir);
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/** SIGKILL works on stopped (SIGSTOP) processes too, so nothing is left behind. */
export function killEverything(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

export function installCleanupHandlers(): void {
  process.on('exit', killEverything);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping every node and load generator\n`);
      killEverything();
      process.exit(130);
    });
  }
}
