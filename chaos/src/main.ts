#!/usr/bin/env node
/**
 * `pnpm chaos`: meshchat's chaos checker. Runs real node processes and chatting clients
 * through a seeded schedule of faults, records every operation, then judges the
 * guarantees of design.md from that history and the nodes' final stores. See
 * docs/reliability.md.
 */
import { randomInt } from 'node:crypto';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Verdict } from './checker/check.js';
import { EVIDENCE_SHOWN, RUNS_DIR } from './constants.js';
import { type CliRequest, parseOptions, USAGE, UsageError } from './options.js';
import { REPO_ROOT } from './paths.js';
import { formatConclusion, formatFigures, formatGuarantees } from './report.js';
import { runChaos } from './run.js';
import { checkRunDir, NODES_DIR, VERDICT_FILE } from './run-files.js';

const EXIT_VIOLATED = 1;
const EXIT_USAGE = 2;
const EXIT_RUN_FAILED = 3;

const print = (line = '') => process.stdout.write(`${line}\n`);

async function main(): Promise<number> {
  let request: CliRequest;
  try {
    request = parseOptions(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`chaos: ${err.message}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (request.command === 'help') {
    print(USAGE);
    return 0;
  }
  if (request.command === 'check') return report(request.runDir, await checkRunDir(request.runDir), true);

  const seed = request.seed ?? randomInt(1, 2 ** 31);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const runDir = request.out ?? join(REPO_ROOT, RUNS_DIR, `${stamp}-seed${seed}`);
  print(
    `chaos: seed ${seed}, ${request.nodes} nodes, ${request.clients} clients, ${request.rooms} rooms, ` +
      `${request.durationS} s, faults ${request.faults.join(',') || 'none'}, ${request.layer} layer`,
  );
  print(`run directory: ${shown(runDir)}`);
  print(
    `repeat with: pnpm chaos --seed ${seed} --nodes ${request.nodes} --clients ${request.clients} ` +
      `--rooms ${request.rooms} --duration ${request.durationS} --faults ${request.faults.join(',')} --layer ${request.layer}`,
  );
  installInterruptHandlers();
  try {
    await runChaos({ ...request, seed, runDir, log: (line) => print(`  ${line}`) });
  } catch (err) {
    process.stderr.write(`chaos: the run failed: ${err instanceof Error ? (err.stack ?? err.message) : err}\n`);
    process.stderr.write(`chaos: what it recorded is in ${shown(runDir)}\n`);
    return EXIT_RUN_FAILED;
  }
  const verdict = await checkRunDir(runDir);
  if (verdict.isOk && !request.keepData) removeNodeData(runDir);
  return report(runDir, verdict, verdict.isOk && !request.keepData);
}

function report(runDir: string, verdict: Verdict, isDataRemoved: boolean): number {
  const full = [...formatGuarantees(verdict, Number.POSITIVE_INFINITY), '', ...formatFigures(verdict.figures)];
  writeFileSync(join(runDir, VERDICT_FILE), `${[...full, '', formatConclusion(verdict)].join('\n')}\n`);
  print();
  for (const line of formatGuarantees(verdict, EVIDENCE_SHOWN)) print(line);
  print();
  for (const line of formatFigures(verdict.figures)) print(line);
  print();
  print(`history, node logs and verdict: ${shown(runDir)}${isDataRemoved ? '' : " (with the nodes' data)"}`);
  print(formatConclusion(verdict));
  return verdict.isOk ? 0 : EXIT_VIOLATED;
}

// The evidence of a passed run is its history and logs; the stores are summed up in stores.json.
function removeNodeData(runDir: string): void {
  const nodesDir = join(runDir, NODES_DIR);
  for (const entry of readdirSync(nodesDir, { withFileTypes: true })) {
    if (entry.isDirectory()) rmSync(join(nodesDir, entry.name, 'data'), { recursive: true, force: true });
  }
}

function shown(path: string): string {
  const fromRoot = relative(process.cwd(), path);
  return fromRoot.startsWith('..') ? path : fromRoot || '.';
}

// Ctrl-C or a kill: exit at once; the harness's exit handlers kill every node process
// (resumed first if stopped) and delete every network namespace the run made.
function installInterruptHandlers(): void {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nchaos: ${signal}, stopping every node and removing every namespace\n`);
      process.exit(130);
    });
  }
}

main().then(
  // Nothing may linger: keep-alive HTTP sockets to nodes that are gone, stray timers.
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`chaos: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(EXIT_RUN_FAILED);
  },
);
