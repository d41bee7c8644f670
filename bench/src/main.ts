#!/usr/bin/env node
/**
 * `pnpm bench`: meshchat's benchmark. Starts real node processes and load generators
 * in processes of their own, runs the workloads of issue 3 ("Benchmark") and prints each
 * figure with its workload, then a summary against the targets. See docs/benchmarks.md.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { installCleanupHandlers } from './cleanup.js';
import { benchNodeSettings } from './node-settings.js';
import { type BenchOptions, parseOptions, USAGE, UsageError } from './options.js';
import { NODE_MAIN, PROFILE_ROOT } from './paths.js';
import { summariseProfiles } from './profile-summary.js';
import { printDetection, printHeader, printIdle, printProfile, printSummary, type RunResults } from './report.js';
import {
  FAILOVER_SIGNALS,
  printFailoverFailure,
  printFailoverHeader,
  printFailoverSignal,
  printFailoverSummary,
  printFailoverTrial,
} from './report-failover.js';
import {
  printDurableHeader,
  printDurableResult,
  printDurableStore,
  printFanoutFailure,
  printFanoutHeader,
  printFanoutStep,
} from './report-fanout.js';
import { printCatchup, printHistory, printStoreSize } from './report-history.js';
import { loadAverage, machineInfo } from './system.js';
import { runCatchup } from './workloads/catchup.js';
import { runFailoverTrials } from './workloads/client-failover.js';
import { runDurableComparison } from './workloads/durable-vs-memory.js';
import { runDetectionTrials } from './workloads/failure-detection.js';
import { runHistoryQueries } from './workloads/history-query.js';
import { checkIdleLimits, runIdleMemory } from './workloads/idle-memory.js';
import { runRoomFanout } from './workloads/room-fanout.js';
import { runStoreSize } from './workloads/store-size.js';

const PROFILE_TOP = 20;

async function run(options: BenchOptions): Promise<void> {
  if (!existsSync(NODE_MAIN)) throw new Error(`${NODE_MAIN} is missing: build first with \`npx tsc -b\``);
  // Fail before spending minutes on the other scenarios.
  if (options.scenarios.includes('idle')) checkIdleLimits(options.idleClients);
  const settings = benchNodeSettings(options.nodeOverrides);
  const results: RunResults = {
    header: { startedAt: new Date(), machine: machineInfo(), loadAverage: loadAverage(), settings },
    loadAverageAtEnd: '',
  };
  printHeader(results.header);
  const profileDir = options.cpuProfile
    ? join(PROFILE_ROOT, results.header.startedAt.toISOString().replace(/[:.]/g, '-'))
    : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });

  if (options.scenarios.includes('fanout')) {
    printFanoutHeader(options.durationS);
    results.fanout = await runRoomFanout({
      rates: options.rates,
      durationS: options.durationS,
      settings,
      ...(profileDir ? { cpuProfileDir: profileDir } : {}),
      onStep: printFanoutStep,
      onStepFailed: printFanoutFailure,
    });
    process.stdout.write('\n');
  }
  if (options.scenarios.includes('detection')) {
    results.detection = [
      ...(await runDetectionTrials('SIGKILL', options.trials, settings)),
      ...(await runDetectionTrials('SIGSTOP', options.trials, settings)),
    ];
    printDetection(results.detection, settings);
  }
  if (options.scenarios.includes('failover')) {
    printFailoverHeader(options.trials);
    results.failover = [];
    for (const signal of FAILOVER_SIGNALS) {
      printFailoverSignal(signal);
      let index = 0;
      const trials = await runFailoverTrials(
        signal,
        options.trials,
        settings,
        (trial) => printFailoverTrial(trial, index++),
        (error) => printFailoverFailure(error, index++),
      );
      printFailoverSummary(signal, trials);
      results.failover.push(...trials);
    }
    process.stdout.write('\n');
  }
  if (options.scenarios.includes('idle')) {
    results.idle = await runIdleMemory(options.idleClients, settings);
    printIdle(results.idle);
  }
  if (options.scenarios.includes('catchup')) {
    results.catchup = await runCatchup(settings, profileDir);
    printCatchup(results.catchup);
  }
  if (options.scenarios.includes('history')) {
    results.history = await runHistoryQueries(settings);
    printHistory(results.history);
  }
  if (options.scenarios.includes('storesize')) {
    results.storesize = await runStoreSize(settings);
    printStoreSize(results.storesize);
  }
  if (options.scenarios.includes('durable')) {
    printDurableHeader(options.durationS);
    results.durable = await runDurableComparison({
      rates: options.durableRates,
      durationS: options.durationS,
      settings,
      onStore: printDurableStore,
      onStep: printFanoutStep,
      onStepFailed: printFanoutFailure,
    });
    printDurableResult(results.durable);
  }
  if (profileDir && (results.fanout || results.catchup))
    printProfile(summariseProfiles(profileDir, PROFILE_TOP), profileDir);
  results.loadAverageAtEnd = loadAverage();
  printSummary(results);
}

async function main(): Promise<void> {
  let options: BenchOptions | undefined;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`bench: ${err.message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (!options) {
    process.stdout.write(USAGE);
    return;
  }
  installCleanupHandlers();
  await run(options);
}

main().then(
  // Nothing may linger: keep-alive HTTP sockets to nodes that are gone, stray timers.
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
