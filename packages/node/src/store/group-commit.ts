import { performance } from 'node:perf_hooks';

interface Queued<T> {
  items: readonly T[];
  queuedAt: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** One commit that completed, for metrics: where a message's time to durable goes. */
export interface CommitStats {
  items: number;
  /** How long the longest-waiting item of the batch was queued before the commit began. */
  waitedMs: number;
  /** From the start of the write to durable (fsync'd). */
  commitMs: number;
}

export interface GroupCommitOptions<T> {
  /** Earliest start of a commit after the previous one started, in ms. */
  intervalMs: number;
  /** Writes a batch as one transaction (all of it commits or none); settles when durable. */
  write: (batch: readonly T[]) => PromiseLike<unknown>;
  onCommitted?: (stats: CommitStats) => void;
}

/**
 * Group commit: every write queued while a commit is under way, or within `intervalMs`
 * of the last one's start, goes into the next transaction. Each commit costs an fsync
 * and ~200 us of CPU whatever its size, so under load this keeps commits to a few
 * hundred a second instead of one per event-loop turn; when idle, a write waits at most
 * `intervalMs`. One transaction at a time, so batches commit (and settle) in order; a
 * failed one fails what is queued behind it too.
 */
export class GroupCommit<T> {
  private queue: Queued<T>[] = [];
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private lastStartAt = 0;

  constructor(private readonly options: GroupCommitOptions<T>) {}

  /**
   * Resolves once all of `items` are committed (fsync'd), in one transaction; rejects if
   * it failed. One promise for many items: an anti-entropy batch of hundreds of messages
   * costs one settlement, not one each.
   */
  add(items: readonly T[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ items, queuedAt: performance.now(), resolve, reject });
      this.schedule();
    });
  }

  /** Commits everything queued now and resolves when nothing is left in flight. */
  async drain(): Promise<void> {
    while (this.inFlight || this.queue.length > 0) {
      if (!this.inFlight) this.start();
      await this.inFlight;
    }
  }

  private schedule(): void {
    if (this.inFlight || this.timer || this.queue.length === 0) return;
    const waitMs = this.lastStartAt + this.options.intervalMs - Date.now();
    // setImmediate even with no wait: the rest of this turn's writes join the batch.
    this.timer = waitMs > 0 ? setTimeout(() => this.start(), waitMs) : setImmediate(() => this.start());
  }

  private start(): void {
    if (this.timer) {
      clearTimeout(this.timer as NodeJS.Timeout);
      clearImmediate(this.timer as NodeJS.Immediate);
      this.timer = undefined;
    }
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    this.lastStartAt = Date.now();
    const items = batch.length === 1 ? (batch[0] as Queued<T>).items : batch.flatMap((queued) => queued.items);
    const startedAt = performance.now();
    let committed: PromiseLike<unknown>;
    try {
      committed = this.options.write(items);
    } catch (err) {
      committed = Promise.reject(err);
    }
    this.inFlight = Promise.resolve(committed).then(
      () => {
        const waitedMs = startedAt - (batch[0] as Queued<T>).queuedAt;
        this.options.onCommitted?.({ items: items.length, waitedMs, commitMs: performance.now() - startedAt });
        for (const queued of batch) queued.resolve();
      },
      (err: unknown) => {
        // What was queued meanwhile was sequenced after what failed (the next seqs of
        // the same streams): written alone it would leave holes. It fails too.
        const behind = this.queue;
        this.queue = [];
        for (const queued of [...batch, ...behind]) queued.reject(err);
      },
    );
    void this.inFlight.finally(() => {
      this.inFlight = undefined;
      this.schedule();
    });
  }
}
