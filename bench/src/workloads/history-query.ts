import { performance } from 'node:perf_hooks';
import type { ChatMessage } from '@meshchat/protocol';
import { BenchCluster, type BenchNode } from '../cluster.js';
import {
  HISTORY_FILL_BATCH,
  HISTORY_FILL_TIMEOUT_MS,
  HISTORY_MESSAGES,
  HISTORY_PAGE,
  HISTORY_QUERIES,
  HISTORY_WARMUP_QUERIES,
  JOIN_QUERIES,
} from '../constants.js';
import { type DiskUsage, diskUsage } from '../disk-usage.js';
import { GeneratorProcess } from '../load/ipc.js';
import { RawClient } from '../load/raw-client.js';
import { type BenchNodeSettings, withStore } from '../node-settings.js';
import { STORE_FILLER } from '../paths.js';
import { LatencyHistogram, type LatencySummary } from '../stats.js';
import { otherCpuMeter } from '../system.js';

export const HISTORY_ROOM = 'history';

export interface HistoryResult {
  messages: number;
  fillSeconds: number;
  store: DiskUsage;
  history: LatencySummary;
  join: LatencySummary;
  /** Replies that were not the room's newest HISTORY_PAGE messages. */
  wrong: number;
  /** CPU used during the measured requests by everything but the node and the bench, % of one core. */
  otherCpuPercent: number;
}

/**
 * One node started on a data directory that already holds a room of HISTORY_MESSAGES
 * (written by load/store-filler.ts), and one client on it asking, one request at a time, for
 * the newest HISTORY_PAGE messages: `history` HISTORY_QUERIES times, then `join`
 * (whose reply carries the same page) and `leave` JOIN_QUERIES times. Latency is from
 * the request's write to the arrival of the reply's last byte; every reply is decoded
 * and checked afterwards. The node is alone: a peer would spend the run copying the
 * million messages by anti-entropy.
 */
export async function runHistoryQueries(settings: BenchNodeSettings): Promise<HistoryResult> {
  let fillSeconds = 0;
  const cluster = await BenchCluster.start({
    size: 1,
    settings: withStore(settings, 'lmdb'),
    prepareDataDir: async (dataDir, nodeId) => {
      const spec = { dataDir, nodeId, room: HISTORY_ROOM, messages: HISTORY_MESSAGES, batch: HISTORY_FILL_BATCH };
      const filler = GeneratorProcess.start(STORE_FILLER, spec);
      try {
        fillSeconds = (await filler.next('filled', HISTORY_FILL_TIMEOUT_MS)).seconds;
      } finally {
        await filler.stop();
      }
    },
  });
  let client: RawClient | undefined;
  try {
    const node = cluster.nodes[0] as BenchNode;
    const reader = await RawClient.connect(node.clientAddress);
    client = reader;
    await reader.hello('reader', `history-reader-${process.pid}`);
    const history: PageRequest = {
      ask: async () => (await reader.history(HISTORY_ROOM, HISTORY_PAGE)).messages,
    };
    const join: PageRequest = {
      ask: async () => (await reader.join(HISTORY_ROOM)).history,
      after: async () => void (await reader.leave(HISTORY_ROOM)),
    };
    await timeRequests(reader, HISTORY_WARMUP_QUERIES, history);
    await timeRequests(reader, HISTORY_WARMUP_QUERIES, join);
    let wrong = 0;
    const check = (page: ChatMessage[]) => {
      if (!isNewestPage(page, HISTORY_MESSAGES)) wrong++;
    };
    const otherCpu = otherCpuMeter([node.pid, process.pid]);
    const historyLatency = await timeRequests(reader, HISTORY_QUERIES, history, check);
    const joinLatency = await timeRequests(reader, JOIN_QUERIES, join, check);
    return {
      messages: HISTORY_MESSAGES,
      fillSeconds,
      history: historyLatency,
      join: joinLatency,
      wrong,
      otherCpuPercent: otherCpu(),
      store: diskUsage(node.dataDir),
    };
  } finally {
    client?.close();
    await cluster.stop();
  }
}

interface PageRequest {
  /** Sends the request and resolves with the page of its reply. */
  ask: () => Promise<ChatMessage[]>;
  /** Untimed, before the next request (a join is followed by a leave). */
  after?: () => Promise<void>;
}

/**
 * `count` requests one after another, each timed from its write to the arrival of its
 * reply's last byte (read before anything else runs: decoding is left out).
 */
async function timeRequests(
  client: RawClient,
  count: number,
  request: PageRequest,
  onPage?: (page: ChatMessage[]) => void,
): Promise<LatencySummary> {
  const histogram = new LatencyHistogram();
  for (let i = 0; i < count; i++) {
    const sentAtUs = performance.now() * 1000;
    const page = await request.ask();
    histogram.record(client.lastReceivedAtUs - sentAtUs);
    onPage?.(page);
    await request.after?.();
  }
  return histogram.summary();
}

/** The room's newest HISTORY_PAGE messages, oldest first. */
function isNewestPage(page: ChatMessage[], newestSeq: number): boolean {
  return (
    page.length === HISTORY_PAGE &&
    page.every((m, i) => m.room === HISTORY_ROOM && m.seq === newestSeq - HISTORY_PAGE + 1 + i)
  );
}
