import { type ChildProcess, fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { trackChild } from '../cleanup.js';
import type { LatencySummary } from '../stats.js';

// Messages between the bench and its load generators, which run as separate processes
// so that their CPU is not the nodes' and can be measured apart.

export interface FanoutSpec {
  servers: string[];
  room: string;
  clients: number;
  publishers: number;
  rate: number;
  durationMs: number;
}

export interface FanoutResult {
  sent: number;
  sendWindowMs: number;
  /** Messages the schedule moved past because the generator fell behind (see MAX_SCHEDULE_SLIP_MS). */
  skipped: number;
  /** Longest gap between two publishing ticks: how long the generator was stalled. */
  maxTickGapMs: number;
  acked: number;
  /** Message frames received by all receivers, duplicates included. */
  deliveries: number;
  /** From the first send to the last delivery. */
  deliveryWindowMs: number;
  /** Receiver-message pairs that never arrived. */
  lost: number;
  duplicated: number;
  /** Messages that arrived before an earlier one of the same publisher. */
  reordered: number;
  /** Sampled frames that failed full validation, or whose clientMsgId did not match the text. */
  invalid: number;
  validated: number;
  disconnected: number;
  errorCodes: Record<string, number>;
  latency: LatencySummary;
}

/** The room fan-out workload on ChatClients, across the failure of one node (failover scenario). */
export interface FailoverSpec {
  servers: string[];
  room: string;
  clients: number;
  publishers: number;
  rate: number;
  /** Publishing lasts this long from 'start'; the bench fails a node meanwhile. */
  durationMs: number;
}

/** A client's time away from a cluster: from losing its node to resuming on another. */
export interface ClientOutage {
  /** When the client gave the connection up (its `disconnected` event), on wallClockMs(). */
  lostAt: number;
  nodeId: string;
  reason: string;
  /** The first bytes from a node after lostAt (its welcome): the reconnect is done. */
  welcomedAt?: number;
  /** Its `connected` event after it: back in the room on `resumedOn`, outbox resent. */
  resumedAt?: number;
  resumedOn?: string;
  /** Messages the resume delivered that the client had missed. */
  caughtUp?: number;
  /** The first message the client showed after lostAt (caught up or live): receiving again. */
  receivingAt?: number;
}

export interface FailoverClientReport {
  /** The node the client was on when publishing started. */
  startNodeId: string;
  outages: ClientOutage[];
}

export interface FailoverResult {
  sent: number;
  sendWindowMs: number;
  skipped: number;
  /** Longest gap between two publishing ticks: how long the generator was stalled. */
  maxTickGapMs: number;
  acked: number;
  /** Sends neither acked nor rejected when the drain ended (still in an outbox). */
  unsettled: number;
  /** Rejected sends, by error code. */
  rejected: Record<string, number>;
  /** The clients' `error` events (problems not tied to a call, e.g. a failed rejoin), by code. */
  clientErrors: Record<string, number>;
  /** Messages shown by all clients, duplicates included. */
  deliveries: number;
  /** (receiver, acked message) pairs never shown. */
  lost: number;
  /** Shown more than once, counted per extra showing, over every message sent. */
  duplicated: number;
  /** Shown after a later message of the same publisher. */
  reordered: number;
  /** Texts that are not bench texts of this run. */
  invalid: number;
  clients: FailoverClientReport[];
}

export interface IdleSpec {
  server: string;
  clients: number;
  concurrency: number;
  pingEveryMs: number;
}

export interface StoreFillSpec {
  dataDir: string;
  /** The node that will open the store: the messages' origin. */
  nodeId: string;
  room: string;
  messages: number;
  /** Appends per commit. */
  batch: number;
}

export type GeneratorMessage =
  | { type: 'ready' }
  | { type: 'filled'; seconds: number }
  | { type: 'result'; result: FanoutResult }
  | { type: 'failover-result'; result: FailoverResult }
  | { type: 'connected'; connected: number; failed: number; firstError?: string }
  | { type: 'failed'; message: string };

export type ParentMessage = { type: 'start' };

/** A load generator process, forked with its spec as the only argument. */
export class GeneratorProcess {
  private readonly inbox: GeneratorMessage[] = [];
  private waiting: ((message: GeneratorMessage) => void) | undefined;
  private exitReason: string | undefined;

  private constructor(readonly child: ChildProcess) {
    child.on('message', (message: GeneratorMessage) => {
      if (this.waiting) {
        const waiting = this.waiting;
        this.waiting = undefined;
        waiting(message);
      } else this.inbox.push(message);
    });
    child.once('exit', (code, signal) => {
      this.exitReason = `load generator exited (${signal ?? `code ${code}`})`;
      this.waiting?.({ type: 'failed', message: this.exitReason });
    });
  }

  static start(modulePath: string, spec: FanoutSpec | FailoverSpec | IdleSpec | StoreFillSpec): GeneratorProcess {
    const child = fork(modulePath, [JSON.stringify(spec)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    trackChild(child);
    return new GeneratorProcess(child);
  }

  get pid(): number {
    return this.child.pid as number;
  }

  send(message: ParentMessage): void {
    this.child.send(message);
  }

  /** The next message of the given type; a 'failed' message, an exit or `timeoutMs` rejects. */
  async next<T extends GeneratorMessage['type']>(
    type: T,
    timeoutMs: number,
  ): Promise<Extract<GeneratorMessage, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const message = this.inbox.shift() ?? (await this.receive(deadline - Date.now()));
      if (message.type === type) return message as Extract<GeneratorMessage, { type: T }>;
      if (message.type === 'failed') throw new Error(message.message);
    }
  }

  private receive(timeoutMs: number): Promise<GeneratorMessage> {
    if (this.exitReason) return Promise.resolve({ type: 'failed', message: this.exitReason });
    return new Promise((resolve) => {
      const timer = setTimeout(
        () => {
          this.waiting = undefined;
          resolve({ type: 'failed', message: `no reply from the load generator within ${timeoutMs} ms` });
        },
        Math.max(0, timeoutMs),
      );
      this.waiting = (message) => {
        clearTimeout(timer);
        resolve(message);
      };
    });
  }

  /**
   * Disconnects, on which a generator exits by itself (writing its CPU profile when
   * run with --cpu-prof); one still running after `graceMs` is killed.
   */
  async stop(graceMs = 0): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    if (this.child.connected) this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * Milliseconds since the epoch with sub-millisecond resolution, alike in every process
 * of the machine (each process's high-resolution clock from its own time origin), so a
 * time the bench takes can be compared with one a generator takes.
 */
export const wallClockMs = () => performance.timeOrigin + performance.now();

/** In a generator: its spec, and a way to report to the bench. */
export function generatorSpec<T>(): T {
  return JSON.parse(process.argv[2] ?? '{}') as T;
}

/** Resolves once the message is handed to the IPC channel, so exiting after it is safe. */
export function report(message: GeneratorMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) resolve();
    else process.send(message, undefined, {}, () => resolve());
  });
}

/** A generator whose bench is gone has nothing left to do. */
export function exitWithParent(): void {
  process.on('disconnect', () => process.exit());
}
