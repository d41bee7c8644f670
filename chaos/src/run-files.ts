import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { checkRun, type Verdict } from './checker/check.js';
import { readHistory } from './history.js';
import { readStores } from './stores.js';

// A run's directory: what the checker reads, and what it writes.
export const HISTORY_FILE = 'history.jsonl';
export const STORES_FILE = 'stores.json';
export const VERDICT_FILE = 'verdict.txt';
/** Per node: `<id>.log` (its output) and `<id>/` (its config and data dir). */
export const NODES_DIR = 'nodes';

/** Judges a finished run from its directory alone (history and final stores). */
export async function checkRunDir(runDir: string): Promise<Verdict> {
  const storesPath = join(runDir, STORES_FILE);
  if (!existsSync(storesPath)) {
    throw new Error(`${runDir} holds no ${STORES_FILE}: the run did not get as far as reading the nodes' stores`);
  }
  return checkRun(await readHistory(join(runDir, HISTORY_FILE)), readStores(storesPath));
}
