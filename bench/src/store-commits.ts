import { parseMetrics, sampleValue } from '../../test/harness/dist/runtime.js';

// The durable store's group commits over a step, from the nodes' GET /metrics: how
// often they commit, how many messages each commit carries, and where a message's time
// to durable goes (queued behind the commit before it, then its own commit).

const SERIES = {
  commits: 'meshchat_store_commit_seconds_count',
  commitSeconds: 'meshchat_store_commit_seconds_sum',
  waitSeconds: 'meshchat_store_commit_wait_seconds_sum',
  messages: 'meshchat_store_committed_messages_total',
} as const;

export type CommitTotals = Record<keyof typeof SERIES, number>;

export interface StoreCommits {
  /** Commits per second, per node. */
  perSecondPerNode: number;
  messagesPerCommit: number;
  meanCommitMs: number;
  meanWaitMs: number;
}

/** The commit counters of one node (zeros for the memory store). */
export async function fetchCommitTotals(httpAddress: string): Promise<CommitTotals> {
  const response = await fetch(`http://${httpAddress}/metrics`, { signal: AbortSignal.timeout(15_000) });
  if (!response.ok) throw new Error(`GET http://${httpAddress}/metrics: HTTP ${response.status}`);
  const samples = parseMetrics(await response.text());
  const read = (name: string) => sampleValue(samples, name) ?? 0;
  return {
    commits: read(SERIES.commits),
    commitSeconds: read(SERIES.commitSeconds),
    waitSeconds: read(SERIES.waitSeconds),
    messages: read(SERIES.messages),
  };
}

/** What happened between two readings of every node; undefined when nothing was committed. */
export function commitsBetween(
  before: readonly CommitTotals[],
  after: readonly CommitTotals[],
  seconds: number,
): StoreCommits | undefined {
  const delta = (key: keyof CommitTotals) => after.reduce((sum, t, i) => sum + t[key] - (before[i]?.[key] ?? 0), 0);
  const commits = delta('commits');
  if (commits <= 0 || seconds <= 0) return undefined;
  return {
    perSecondPerNode: commits / seconds / after.length,
    messagesPerCommit: delta('messages') / commits,
    meanCommitMs: (delta('commitSeconds') * 1000) / commits,
    meanWaitMs: (delta('waitSeconds') * 1000) / commits,
  };
}
