import type { PeerFrameOf, PresenceVersion } from '@meshchat/protocol';
import { isNewer, PresenceDirectory, type RemotePresenceChange } from './presence-directory.js';

export type PresenceDelta = Omit<PeerFrameOf<'presence_delta'>, 'type'>;
export type PresenceChange = Omit<PresenceDelta, 'epoch' | 'version'>;
export type PresenceSnapshot = PeerFrameOf<'presence_snapshot'>;
/** What this node reports of itself in a snapshot. */
export type LocalPresence = Pick<PresenceSnapshot, 'sessions' | 'departed'>;

export interface ClusterPresenceDeps {
  nodeId: string;
  now: () => number;
  /** resumeGraceMs: how long the clients of a node that died have to resume elsewhere. */
  graceMs: number;
  /** Tells every peer about a change to this node's clients. */
  broadcast: (delta: PresenceDelta) => void;
  /** Whether this node holds another node dead. */
  isDead: (nodeId: string) => boolean;
  /** Another node's clients changed, as it (or a peer passing its copy on) reports. */
  onRemoteChange: (change: RemotePresenceChange) => void;
  /** This node's clients and their rooms, and the clients it holds in their grace. */
  local: () => LocalPresence;
}

/**
 * This node's part in cluster presence (see docs/architecture.md "Cluster presence"):
 * the version of its own clients (its start time as epoch, then one per change) with
 * the deltas and snapshots that carry them, the other nodes' parts (PresenceDirectory),
 * the anti-entropy exchange of snapshots, and whether this node may still not know
 * every client that is failing over (just after it started, or after a peer died).
 */
export class ClusterPresence {
  /** Sessions on the other nodes, as they report them. */
  readonly directory: PresenceDirectory;
  private readonly epoch: number;
  private version = 0;
  private settlesAt: number;

  constructor(private readonly deps: ClusterPresenceDeps) {
    this.directory = new PresenceDirectory({ onChange: deps.onRemoteChange, isDead: deps.isDead });
    this.epoch = deps.now();
    this.settlesAt = this.epoch + deps.graceMs;
  }

  /** One change to this node's clients: versioned and sent to every peer. */
  changed(change: PresenceChange): void {
    this.version++;
    this.deps.broadcast({ ...change, epoch: this.epoch, version: this.version });
  }

  /** A peer was declared dead: its clients leave (held for a resume by the view). */
  nodeDied(nodeId: string): void {
    this.settlesAt = this.deps.now() + this.deps.graceMs;
    this.directory.dropNode(nodeId);
  }

  /** How long this node may still not know a client that is failing over; 0 when settled. */
  unsettledMs(): number {
    return Math.max(0, this.settlesAt - this.deps.now());
  }

  /** The presence versions held, per owner node, this one included (anti-entropy). */
  versions(): Record<string, PresenceVersion> {
    return { ...this.directory.versions(), [this.deps.nodeId]: { epoch: this.epoch, version: this.version } };
  }

  /**
   * Sends a peer the snapshots we hold newer than its versions (our own or copies of
   * others'), and says whether it holds any newer than ours.
   */
  reconcile(peer: string, theirs: Record<string, PresenceVersion>, send: (frame: PresenceSnapshot) => void): boolean {
    const mine = this.versions();
    for (const [owner, version] of Object.entries(mine)) {
      const theirVersion = theirs[owner];
      if (owner === peer || (theirVersion && !isNewer(version, theirVersion))) continue;
      const snapshot = owner === this.deps.nodeId ? this.snapshot() : this.directory.snapshotOf(owner);
      if (snapshot) send(snapshot);
    }
    return Object.entries(theirs).some(([owner, version]) => {
      const held = mine[owner];
      return owner !== this.deps.nodeId && (!held || isNewer(version, held));
    });
  }

  /** This node's clients, for a peer whose link came up or that is behind. */
  snapshot(): PresenceSnapshot {
    return {
      type: 'presence_snapshot',
      nodeId: this.deps.nodeId,
      epoch: this.epoch,
      version: this.version,
      ...this.deps.local(),
    };
  }
}
