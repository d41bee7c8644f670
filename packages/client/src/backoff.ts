export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

// Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff
// and Jitter"): spreads the reconnects of many clients of a dead node over time.
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number): number {
  const ceiling = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}
