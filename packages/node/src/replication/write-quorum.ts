export interface WriteQuorumDeps {
  /** Copies an acked message must have, this node's included (config `ackReplicas`). */
  ackReplicas: number;
  /** The peers a message can reach now: those with a live link. */
  reachablePeers: () => readonly string[];
}

interface Waiter {
  seq: number;
  resolve: () => void;
}

/**
 * The write quorum of design.md guarantee 1: a message this node accepted is acked only
 * once it is committed here and on min(ackReplicas - 1, reachable peers) peers. Peers
 * report what they hold of this node's streams (`stored` frames after each commit, and
 * their vectors in anti-entropy): "(room) up to seq", cumulative, so reports can be
 * coalesced and repeated. A peer that goes away no longer counts, and no longer needs
 * to: waiters are re-judged when the set of peers changes, so a dead or cut-off replica
 * delays acks by the failure-detection time, never forever.
 */
export class WriteQuorum {
  // peer -> room -> highest seq of our stream in that room the peer holds (contiguous).
  private readonly held = new Map<string, Map<string, number>>();
  // room -> waiters in seq order (seqs of one room are accepted in order).
  private readonly waiting = new Map<string, Waiter[]>();

  constructor(private readonly deps: WriteQuorumDeps) {}

  /** Messages waiting for their replicas, for /cluster. */
  get waitingCount(): number {
    let count = 0;
    for (const waiters of this.waiting.values()) count += waiters.length;
    return count;
  }

  /** Resolves once enough reachable peers hold this node's (room, seq). */
  whenReplicated(room: string, seq: number): Promise<void> {
    if (this.isReplicated(room, seq)) return Promise.resolve();
    return new Promise((resolve) => {
      const waiters = this.waiting.get(room) ?? [];
      this.waiting.set(room, waiters);
      let at = waiters.length;
      while (at > 0 && (waiters[at - 1] as Waiter).seq > seq) at--;
      waiters.splice(at, 0, { seq, resolve });
    });
  }

  /** `peer` holds this node's stream in `room` up to `seq`. */
  onHeld(peer: string, room: string, seq: number): void {
    let rooms = this.held.get(peer);
    if (!rooms) {
      rooms = new Map();
      this.held.set(peer, rooms);
    }
    if (seq <= (rooms.get(room) ?? 0)) return;
    rooms.set(room, seq);
    this.release(room);
  }

  /**
   * A link went down: what that peer held no longer counts (it may come back wiped),
   * and with one peer fewer the waiters may need fewer copies.
   */
  onLinkDown(peer: string): void {
    this.held.delete(peer);
    for (const room of [...this.waiting.keys()]) this.release(room);
  }

  // Resolves the room's waiters that now have their copies, oldest first.
  private release(room: string): void {
    const waiters = this.waiting.get(room);
    if (!waiters) return;
    let released = 0;
    while (released < waiters.length && this.isReplicated(room, (waiters[released] as Waiter).seq)) released++;
    for (const waiter of waiters.splice(0, released)) waiter.resolve();
    if (waiters.length === 0) this.waiting.delete(room);
  }

  private isReplicated(room: string, seq: number): boolean {
    const peers = this.deps.reachablePeers();
    const needed = Math.min(this.deps.ackReplicas - 1, peers.length);
    let count = 0;
    for (const peer of peers) {
      if (count >= needed) break;
      if ((this.held.get(peer)?.get(room) ?? 0) >= seq) count++;
    }
    return count >= needed;
  }
}
