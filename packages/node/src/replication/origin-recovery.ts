import type { Logger } from 'pino';
import type { MessageStore, VersionVector } from '../store/message-store.js';

export interface OriginRecoveryDeps {
  nodeId: string;
  store: MessageStore;
  /** Whether this node has peers to ask (seeds); a lone node has nobody to recover from. */
  hasPeers: boolean;
  /** How long to wait for a peer before deciding the question cannot be answered. */
  timeoutMs: number;
  now: () => number;
  log: Logger;
}

const ORIGIN_KEY = 'origin';

/** The origin a node writes under after losing its data: its id and the time. */
export function renewedOrigin(nodeId: string, now: number): string {
  return `${nodeId}.${now.toString(36)}`;
}

/** Which of `nodeIds` writes (or wrote) under `origin`: its own id, or a renewed one. */
export function ownerOfOrigin(origin: string, nodeIds: readonly string[]): string | undefined {
  return nodeIds.includes(origin) ? origin : nodeIds.find((nodeId) => origin.startsWith(`${nodeId}.`));
}

/**
 * Decides the origin id under which this node writes its messages, so that it never
 * gives a new message an id the cluster already holds for another one.
 *
 * A store that holds history, or that recorded its origin, keeps it. A new, empty
 * store may belong to a node that lost its data directory (or runs the memory store)
 * after accepting messages in an earlier life, and its peers may still hold them:
 * local messages wait until a peer has said what it holds of this node's origin and
 * anti-entropy has brought that back, then continue the same sequences. If no peer
 * answers in time, the node cannot know, so it writes under a new origin id
 * (`<nodeId>.<time>`, as Riak regenerates a vnode id after data loss): always safe,
 * at the cost of one more entry in the room vectors.
 */
export class OriginRecovery {
  private readonly needed = new Map<string, number>();
  private heardFromPeer = false;
  private done = false;
  private release: () => void = () => {};
  private timer: NodeJS.Timeout | undefined;
  readonly ready: Promise<void>;
  origin: string;

  constructor(private readonly deps: OriginRecoveryDeps) {
    this.origin = deps.nodeId;
    this.ready = new Promise((resolve) => {
      this.release = resolve;
    });
    const recorded = deps.store.getMeta(ORIGIN_KEY);
    if (recorded) {
      this.finish(recorded, 'the store recorded its origin');
    } else if (deps.store.rooms().length > 0 || !deps.hasPeers) {
      this.finish(deps.nodeId, deps.hasPeers ? 'the store holds history' : 'no peers to ask');
    } else {
      deps.log.info({ timeoutMs: deps.timeoutMs }, 'store is empty: asking peers what they hold of this node first');
      this.timer = setTimeout(() => {
        if (this.heardFromPeer) return;
        const origin = renewedOrigin(deps.nodeId, deps.now());
        this.finish(
          origin,
          'no peer answered in time, so earlier messages of this node may exist: using a new origin id',
        );
      }, deps.timeoutMs).unref();
    }
  }

  get isDone(): boolean {
    return this.done;
  }

  /** The node is stopping: a wait still under way must not write to the closed store. */
  stop(): void {
    clearTimeout(this.timer);
  }

  /** A peer's anti-entropy vectors: what it holds of our origin must come back first. */
  onPeerVectors(rooms: Record<string, VersionVector>): void {
    if (this.done) return;
    this.heardFromPeer = true;
    for (const [room, vector] of Object.entries(rooms)) {
      const held = vector[this.deps.nodeId] ?? 0;
      if (held > (this.needed.get(room) ?? 0)) this.needed.set(room, held);
    }
    this.check();
  }

  /** A replicated message was stored; maybe the last one we were waiting for. */
  onStored(): void {
    if (!this.done && this.heardFromPeer) this.check();
  }

  private check(): void {
    for (const [room, seq] of this.needed) {
      if (this.deps.store.highestSeq(room, this.deps.nodeId) < seq) return;
    }
    const recovered = [...this.needed.values()].reduce((sum, seq) => sum + seq, 0);
    const why =
      recovered > 0
        ? `recovered ${recovered} earlier messages of this node from a peer`
        : 'peers hold nothing of this node';
    this.finish(this.deps.nodeId, why);
  }

  private finish(origin: string, why: string): void {
    if (this.done) return;
    this.done = true;
    this.origin = origin;
    this.deps.store.setMeta(ORIGIN_KEY, origin);
    this.deps.log[origin === this.deps.nodeId ? 'info' : 'warn']({ origin, why }, 'accepting messages');
    this.release();
  }
}
