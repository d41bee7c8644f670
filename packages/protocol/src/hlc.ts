// Hybrid logical clock (Kulkarni et al. 2014) packed into one safe integer:
// wall-clock milliseconds times 1024 plus a logical counter. Packed values sort in
// causal-then-time order, fit a msgpack uint64 and a JS number until the year 2248,
// and make history keys fixed-width.

const LOGICAL_BITS = 1024;

export function packHlc(wallMs: number, logical: number): number {
  return wallMs * LOGICAL_BITS + logical;
}

export function hlcWallMs(hlc: number): number {
  return Math.floor(hlc / LOGICAL_BITS);
}

export class HybridLogicalClock {
  private last = 0;

  constructor(private readonly now: () => number) {}

  /** A value greater than every value this clock has issued or observed. */
  tick(): number {
    const physical = packHlc(this.now(), 0);
    // When more than 1024 events share a millisecond the counter runs into the next
    // millisecond: the clock runs briefly ahead rather than repeating a value.
    this.last = physical > this.last ? physical : this.last + 1;
    return this.last;
  }

  /** Merges a value seen on a message from elsewhere, so later ticks order after it. */
  observe(remote: number): void {
    if (remote > this.last) this.last = remote;
  }

  get current(): number {
    return this.last;
  }
}
