/** What a generator's schedule publishes: the tally is sized from it. */
export interface TallyShape {
  clients: number;
  publishers: number;
  rate: number;
  durationMs: number;
}

/**
 * How often each receiver showed each bench message, per (receiver, publisher, message
 * number) in flat typed arrays (a bench run records millions of showings), and whether
 * each (receiver, publisher) stream arrived in order. Shared by the generators so lost,
 * duplicated and reordered mean the same in every scenario.
 */
export class DeliveryTally {
  deliveries = 0;
  uniqueDeliveries = 0;
  reordered = 0;
  /** Message numbers per publisher the tally holds. */
  readonly capacity: number;
  // Showings per (receiver, publisher, message number), saturating at 255.
  private readonly received: Uint8Array;
  // Highest message number shown per (receiver, publisher).
  private readonly lastSeen: Int32Array;

  constructor(private readonly shape: TallyShape) {
    // Room for every message the schedule can produce, with a margin.
    this.capacity = Math.ceil(((shape.rate / shape.publishers) * shape.durationMs) / 1000) + 16;
    this.received = new Uint8Array(shape.clients * shape.publishers * this.capacity);
    this.lastSeen = new Int32Array(shape.clients * shape.publishers).fill(-1);
  }

  /** Whether (publisher, n) names a message the schedule can have sent. */
  holds(publisher: number, n: number): boolean {
    return publisher < this.shape.publishers && n < this.capacity;
  }

  /** `receiver` showed message `n` of `publisher` (checked with `holds`). */
  record(receiver: number, publisher: number, n: number): void {
    this.deliveries++;
    const stream = receiver * this.shape.publishers + publisher;
    const slot = stream * this.capacity + n;
    const count = this.received[slot] as number;
    if (count === 0) this.uniqueDeliveries++;
    if (count < 255) this.received[slot] = count + 1;
    if (n < (this.lastSeen[stream] as number)) this.reordered++;
    else this.lastSeen[stream] = n;
  }

  /**
   * Over the first `sent` messages (message k was publisher k mod publishers' n-th):
   * lost, a message `mustArrive` says every receiver had to show and one did not;
   * duplicated, every showing beyond the first.
   */
  lostAndDuplicated(
    sent: number,
    mustArrive: (publisher: number, n: number) => boolean = () => true,
  ): { lost: number; duplicated: number } {
    let lost = 0;
    let duplicated = 0;
    const { clients, publishers } = this.shape;
    for (let publisher = 0; publisher < publishers; publisher++) {
      const sentByPublisher = Math.floor(sent / publishers) + (publisher < sent % publishers ? 1 : 0);
      for (let n = 0; n < sentByPublisher; n++) {
        const isRequired = mustArrive(publisher, n);
        for (let receiver = 0; receiver < clients; receiver++) {
          const count = this.received[(receiver * publishers + publisher) * this.capacity + n] as number;
          if (count === 0 && isRequired) lost++;
          if (count > 1) duplicated += count - 1;
        }
      }
    }
    return { lost, duplicated };
  }
}
