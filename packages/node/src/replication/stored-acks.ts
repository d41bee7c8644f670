import type { PeerFrame } from '@meshchat/protocol';
import { streamKeyOf } from '../store/message-store.js';

export interface StoredAcksDeps {
  send: (nodeId: string, frame: PeerFrame) => void;
  /** Runs the task after the current event-loop turn. */
  defer: (task: () => void) => void;
}

interface Ack {
  room: string;
  origin: string;
  seq: number;
}

/**
 * Tells origins what this node has committed of their streams (`stored` frames), so
 * they can ack their clients (WriteQuorum). Acks are cumulative, so everything
 * committed in one turn goes to a peer as one frame with the highest seq per stream.
 */
export class StoredAcks {
  private readonly pending = new Map<string, Map<string, Ack>>();
  private isScheduled = false;

  constructor(private readonly deps: StoredAcksDeps) {}

  /** `seq`: the highest contiguous seq now committed for (room, origin). */
  add(nodeId: string, room: string, origin: string, seq: number): void {
    let acks = this.pending.get(nodeId);
    if (!acks) {
      acks = new Map();
      this.pending.set(nodeId, acks);
    }
    const key = streamKeyOf(room, origin);
    if ((acks.get(key)?.seq ?? 0) < seq) acks.set(key, { room, origin, seq });
    if (this.isScheduled) return;
    this.isScheduled = true;
    this.deps.defer(() => this.flush());
  }

  private flush(): void {
    this.isScheduled = false;
    for (const [nodeId, acks] of this.pending) this.deps.send(nodeId, { type: 'stored', acks: [...acks.values()] });
    this.pending.clear();
  }
}
