// A short chaos run in the suite: real node processes behind the proxy layer, 15 clients
// chatting without pause, and seed 13's faults, which hit every kind (a node cut from
// its peers, kill -9, a lossy link, a minority split, a SIGTERM restart, a node cut from
// its clients, SIGSTOP), each healed, then a quiet period. Every guarantee holds.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runChaos } from '../src/run.js';
import { checkRunDir } from '../src/run-files.js';
import { FAULT_KINDS } from '../src/schedule.js';

const SEED = 13;
const EVIDENCE_SHOWN = 10;

describe('pnpm chaos', () => {
  it('30 s through TCP proxies, seed 13 (kill -9, SIGSTOP, SIGTERM restart, partitions from peers, from clients and a split, a lossy link): nothing lost, nothing twice, sender order, the same ids on every node, every send acked, no crash', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'meshchat-chaos-'));
    await runChaos({
      nodes: 3,
      clients: 15,
      rooms: 3,
      durationS: 30,
      seed: SEED,
      faults: [...FAULT_KINDS],
      layer: 'proxy',
      runDir,
    });
    const verdict = await checkRunDir(runDir);
    const violations = verdict.results.flatMap((r) =>
      r.violations.slice(0, EVIDENCE_SHOWN).map((evidence) => `${r.name}: ${evidence}`),
    );
    expect(violations, `violations (history and node logs kept in ${runDir})`).toEqual([]);
    const { figures } = verdict;
    expect(figures.faults.map(([kind]) => kind)).toEqual([
      'kill',
      'partition/clients',
      'partition/peers',
      'partition/split',
      'pause',
      'restart',
      'slow/lossy',
    ]);
    expect(figures.operations.sends).toBeGreaterThan(500);
    expect(figures.operations.acks).toBe(figures.operations.sends);
    expect(figures.failovers.count).toBeGreaterThan(0);
    expect({ lost: figures.lost, duplicates: figures.duplicates }).toEqual({ lost: 0, duplicates: 0 });
    rmSync(runDir, { recursive: true, force: true });
  }, 180_000);
});
