// Latency percentiles without keeping every sample: a run delivers millions of
// messages. Log-linear buckets in the manner of HdrHistogram: exact below 128 us, then
// 64 buckets per power of two, so every reported value is within 1.6% of the truth.

const LINEAR_LIMIT = 128;
const SUB_BUCKETS = 64;
const SUB_BUCKET_BITS = 6;
// Up to 2^31 us (35 minutes): longer than any run.
const MAX_EXPONENT = 31;
const BUCKETS = LINEAR_LIMIT + (MAX_EXPONENT - 7) * SUB_BUCKETS;
const MAX_VALUE_US = 2 ** MAX_EXPONENT - 1;

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  private total = 0;
  private sumUs = 0;
  private maxUs = 0;

  /** Records one latency in microseconds; negative values (clock noise) count as 0. */
  record(us: number): void {
    const value = us > 0 ? Math.min(Math.floor(us), MAX_VALUE_US) : 0;
    const bucket = bucketOf(value);
    this.counts[bucket] = (this.counts[bucket] as number) + 1;
    this.total++;
    this.sumUs += value;
    if (value > this.maxUs) this.maxUs = value;
  }

  get count(): number {
    return this.total;
  }

  /** The value below which `percent` of the samples fall, in microseconds. */
  percentileUs(percent: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil((percent / 100) * this.total));
    let seen = 0;
    for (let bucket = 0; bucket < BUCKETS; bucket++) {
      seen += this.counts[bucket] as number;
      if (seen >= rank) return Math.min(bucketUpperBound(bucket), this.maxUs);
    }
    return this.maxUs;
  }

  summary(): LatencySummary {
    return {
      count: this.total,
      p50Ms: this.percentileUs(50) / 1000,
      p99Ms: this.percentileUs(99) / 1000,
      maxMs: this.maxUs / 1000,
      meanMs: this.total === 0 ? 0 : this.sumUs / this.total / 1000,
    };
  }
}

function bucketOf(us: number): number {
  if (us < LINEAR_LIMIT) return us;
  const exponent = 31 - Math.clz32(us);
  const sub = (us >>> (exponent - SUB_BUCKET_BITS)) - SUB_BUCKETS;
  return LINEAR_LIMIT + (exponent - 7) * SUB_BUCKETS + sub;
}

function bucketUpperBound(bucket: number): number {
  if (bucket < LINEAR_LIMIT) return bucket;
  const exponent = Math.floor((bucket - LINEAR_LIMIT) / SUB_BUCKETS) + 7;
  const sub = (bucket - LINEAR_LIMIT) % SUB_BUCKETS;
  const shift = exponent - SUB_BUCKET_BITS;
  return (SUB_BUCKETS + sub + 1) * 2 ** shift - 1;
}

/** The median of a list of numbers (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** The nearest-rank percentile of a list of numbers: with few samples, p99 is the largest. */
export function percentile(values: readonly number[], percent: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil((percent / 100) * sorted.length)) - 1] as number;
}
