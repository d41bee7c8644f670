import { performance } from 'node:perf_hooks';
import { BenchCluster } from '../cluster.js';
import {
  CLEAN_MIN_ACHIEVED,
  CLEAN_P99_MS,
  CLUSTER_SIZE,
  DRAIN_MAX_MS,
  FANOUT_CLIENTS,
  FANOUT_PUBLISHERS,
  FANOUT_ROOM,
  WARMUP_MS,
} from '../constants.js';
import { type FanoutResult, GeneratorProcess } from '../load/ipc.js';
import type { BenchNodeSettings } from '../node-settings.js';
import { FANOUT_GENERATOR } from '../paths.js';
import { type CommitTotals, commitsBetween, fetchCommitTotals, type StoreCommits } from '../store-commits.js';
import { type CpuTimes, cpuSeconds, cpuTimes, machineBusySeconds } from '../system.js';

const GENERATOR_EXIT_GRACE_MS = 3000;
// Connecting 30 clients takes milliseconds; this only bounds a generator that hangs.
const SETUP_TIMEOUT_MS = 30_000;

export interface FanoutStep {
  rate: number;
  durationS: number;
  result: FanoutResult;
  /** Messages the generator published per second. */
  publishRate: number;
  /** Messages received by all clients per second, from the first send to the last delivery. */
  deliveredPerSec: number;
  /** CPU time of all node processes from the start of the step to the end of its drain. */
  nodeCpuSeconds: number;
  /** The share of it spent in the kernel (system time). */
  nodeSystemShare: number;
  cpuPerDeliveryUs: number;
  /** CPU use of the nodes together and of the generator, in % of one core. */
  nodeCpuPercent: number;
  generatorCpuPercent: number;
  /** CPU used by everything else on the machine meanwhile (other jobs, the bench itself), % of one core. */
  otherCpuPercent: number;
  crashed: string[];
  /** The durable store's group commits over the step (undefined with the memory store). */
  commits: StoreCommits | undefined;
  isClean: boolean;
}

export interface FanoutOptions {
  rates: number[];
  durationS: number;
  settings: BenchNodeSettings;
  cpuProfileDir?: string;
  /**
   * Stop the ladder after this many rates in a row that are not clean (or fail): the
   * rates above them would not be either. One disturbed step alone does not end it.
   */
  stopAfterUnclean?: number;
  onStep?: (step: FanoutStep) => void;
  /** A step that could not be measured (a generator or node failed); the others still run. */
  onStepFailed?: (rate: number, error: Error) => void;
}

/** One rate after another, each on a fresh cluster so no step inherits another's backlog or heap. */
export async function runRoomFanout(options: FanoutOptions): Promise<FanoutStep[]> {
  const steps: FanoutStep[] = [];
  let uncleanInARow = 0;
  for (const rate of options.rates) {
    try {
      const step = await runStep(rate, options);
      steps.push(step);
      options.onStep?.(step);
      uncleanInARow = step.isClean ? 0 : uncleanInARow + 1;
    } catch (err) {
      options.onStepFailed?.(rate, err instanceof Error ? err : new Error(String(err)));
      uncleanInARow++;
    }
    if (uncleanInARow >= (options.stopAfterUnclean ?? Number.POSITIVE_INFINITY)) break;
  }
  return steps;
}

// An overloaded node may answer /metrics late or not at all: the step's figures stand
// without its commit counters.
async function readCommits(cluster: BenchCluster): Promise<CommitTotals[] | undefined> {
  try {
    return await Promise.all(cluster.nodes.map((n) => fetchCommitTotals(n.httpAddress)));
  } catch {
    return undefined;
  }
}

/** The clean step of the highest rate, if any. */
export function highestClean(steps: FanoutStep[]): FanoutStep | undefined {
  return steps.filter((s) => s.isClean).sort((a, b) => b.rate - a.rate)[0];
}

async function runStep(rate: number, options: FanoutOptions): Promise<FanoutStep> {
  const cluster = await BenchCluster.start({
    size: CLUSTER_SIZE,
    settings: options.settings,
    ...(options.cpuProfileDir ? { cpuProfileDir: options.cpuProfileDir } : {}),
  });
  let generator: GeneratorProcess | undefined;
  try {
    generator = GeneratorProcess.start(FANOUT_GENERATOR, {
      servers: cluster.clientAddresses,
      room: FANOUT_ROOM,
      clients: FANOUT_CLIENTS,
      publishers: FANOUT_PUBLISHERS,
      rate,
      durationMs: options.durationS * 1000,
    });
    await generator.next('ready', SETUP_TIMEOUT_MS + WARMUP_MS + DRAIN_MAX_MS);
    const pids = cluster.nodes.map((n) => n.pid);
    const commitsBefore = await readCommits(cluster);
    const nodeCpuBefore = sumCpu(pids);
    const generatorCpuBefore = cpuSeconds(generator.pid);
    const machineBefore = machineBusySeconds();
    const startedAt = performance.now();
    generator.send({ type: 'start' });
    const { result } = await generator.next('result', options.durationS * 1000 + DRAIN_MAX_MS + SETUP_TIMEOUT_MS);
    const wallSeconds = (performance.now() - startedAt) / 1000;
    const nodeCpuAfter = sumCpu(pids);
    const nodeCpuSeconds =
      nodeCpuAfter.userSeconds + nodeCpuAfter.systemSeconds - nodeCpuBefore.userSeconds - nodeCpuBefore.systemSeconds;
    const nodeSystemSeconds = nodeCpuAfter.systemSeconds - nodeCpuBefore.systemSeconds;
    const generatorCpuSeconds = cpuSeconds(generator.pid) - generatorCpuBefore;
    const otherCpuSeconds = machineBusySeconds() - machineBefore - nodeCpuSeconds - generatorCpuSeconds;
    const crashed = cluster.crashed();
    const commitsAfter = await readCommits(cluster);
    const publishRate = result.sent / (result.sendWindowMs / 1000);
    const step: FanoutStep = {
      rate,
      durationS: options.durationS,
      result,
      publishRate,
      deliveredPerSec: result.deliveryWindowMs > 0 ? result.deliveries / (result.deliveryWindowMs / 1000) : 0,
      nodeCpuSeconds,
      nodeSystemShare: nodeCpuSeconds > 0 ? nodeSystemSeconds / nodeCpuSeconds : 0,
      cpuPerDeliveryUs: result.deliveries > 0 ? (nodeCpuSeconds * 1e6) / result.deliveries : Number.NaN,
      nodeCpuPercent: (nodeCpuSeconds / wallSeconds) * 100,
      generatorCpuPercent: (generatorCpuSeconds / wallSeconds) * 100,
      otherCpuPercent: Math.max(0, (otherCpuSeconds / wallSeconds) * 100),
      crashed,
      commits: commitsBefore && commitsAfter ? commitsBetween(commitsBefore, commitsAfter, wallSeconds) : undefined,
      isClean: false,
    };
    step.isClean = isClean(step);
    return step;
  } finally {
    // The generator exits when disconnected; the grace period lets a profiled one write its profile.
    await generator?.stop(GENERATOR_EXIT_GRACE_MS);
    await cluster.stop();
  }
}

/** p99 within bound, nothing lost, duplicated, reordered or malformed, and the rate really offered. */
function isClean(step: FanoutStep): boolean {
  const { result } = step;
  return (
    result.latency.p99Ms <= CLEAN_P99_MS &&
    result.lost === 0 &&
    result.duplicated === 0 &&
    result.reordered === 0 &&
    result.invalid === 0 &&
    result.disconnected === 0 &&
    step.crashed.length === 0 &&
    step.publishRate >= CLEAN_MIN_ACHIEVED * step.rate
  );
}

// NaN when a node is gone (it crashed): its CPU time can no longer be read.
function sumCpu(pids: number[]): CpuTimes {
  const total: CpuTimes = { userSeconds: 0, systemSeconds: 0 };
  for (const pid of pids) {
    try {
      const times = cpuTimes(pid);
      total.userSeconds += times.userSeconds;
      total.systemSeconds += times.systemSeconds;
    } catch {
      return { userSeconds: Number.NaN, systemSeconds: Number.NaN };
    }
  }
  return total;
}
