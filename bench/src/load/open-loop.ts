import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { DRAIN_MAX_MS, DRAIN_QUIET_MS, MAX_SCHEDULE_SLIP_MS, SEND_TICK_MS } from '../constants.js';

export const nowUs = () => Math.round(performance.now() * 1000);

export interface ScheduleStats {
  /** Messages sent: the `send` calls made. */
  sent: number;
  windowMs: number;
  /** Messages the schedule moved past because the generator fell behind (see MAX_SCHEDULE_SLIP_MS). */
  skipped: number;
  /** Longest gap between two ticks: how long the generator was stalled. */
  maxTickGapUs: number;
}

/**
 * Open loop: every SEND_TICK_MS, `send(k, nowUs)` for each message k (numbered from 0)
 * that the schedule of `rate` per second says is due by now, whatever the acks; then
 * `flush()`, so a generator can write each socket once per tick. A schedule that falls
 * more than MAX_SCHEDULE_SLIP_MS behind is moved on instead of sending one burst: a
 * saturated generator shows as an achieved rate below the target, not as latency.
 * Ends after `rate * durationMs / 1000` messages are due.
 */
export function publishOpenLoop(
  rate: number,
  durationMs: number,
  send: (k: number, nowUs: number) => void,
  flush: () => void = () => {},
): Promise<ScheduleStats> {
  const total = Math.floor((rate * durationMs) / 1000);
  const maxBacklog = Math.max(1, Math.ceil((rate * MAX_SCHEDULE_SLIP_MS) / 1000));
  const startUs = nowUs();
  const stats: ScheduleStats = { sent: 0, windowMs: 0, skipped: 0, maxTickGapUs: 0 };
  let position = 0;
  let lastTickUs = startUs;
  return new Promise((resolve) => {
    const tick = () => {
      const now = nowUs();
      stats.maxTickGapUs = Math.max(stats.maxTickGapUs, now - lastTickUs);
      lastTickUs = now;
      const due = Math.min(total, Math.floor(((now - startUs) * rate) / 1e6));
      if (due - position > maxBacklog) {
        stats.skipped += due - maxBacklog - position;
        position = due - maxBacklog;
      }
      for (; position < due; position++) send(stats.sent++, now);
      flush();
      if (position >= total) {
        clearInterval(timer);
        stats.windowMs = (now - startUs) / 1000;
        resolve(stats);
      }
    };
    const timer = setInterval(tick, SEND_TICK_MS);
  });
}

/**
 * After the send window: waits until `isComplete()`, or nothing happened (no delivery,
 * as `lastActivityUs` tells) for DRAIN_QUIET_MS, or DRAIN_MAX_MS passed. Whatever is
 * missing then is lost.
 */
export async function drainUntil(isComplete: () => boolean, lastActivityUs: () => number): Promise<void> {
  const startedUs = nowUs();
  while (!isComplete()) {
    const now = nowUs();
    if (now - Math.max(lastActivityUs(), startedUs) > DRAIN_QUIET_MS * 1000) return;
    if (now - startedUs > DRAIN_MAX_MS * 1000) return;
    await sleep(20);
  }
}
