/** What a node must have before it reports ready on /healthz. */
export interface ReadinessDeps {
  /** Whether the node was given seeds: a node with none has no mesh to join. */
  hasSeeds: boolean;
  /** Whether this node knows the origin id it writes under (OriginRecovery). */
  isOriginKnown: () => boolean;
}

/**
 * Ready means: the store is open and the node has joined the mesh (linked to a peer at
 * least once since it started, or it has no seeds), and it knows its origin id. Once
 * joined it stays so: a node whose peers all died still serves its clients, and a load
 * balancer should keep sending them.
 */
export class Readiness {
  private isStoreOpen = false;
  private hasJoined: boolean;

  constructor(private readonly deps: ReadinessDeps) {
    this.hasJoined = !deps.hasSeeds;
  }

  storeOpened(): void {
    this.isStoreOpen = true;
  }

  storeClosed(): void {
    this.isStoreOpen = false;
  }

  linkedToPeer(): void {
    this.hasJoined = true;
  }

  /** Why the node is not ready; empty when it is. */
  reasons(): string[] {
    const reasons: string[] = [];
    if (!this.isStoreOpen) reasons.push('the store is not open');
    if (!this.hasJoined) reasons.push('not linked to any peer yet (joining the mesh through its seeds)');
    else if (!this.deps.isOriginKnown()) reasons.push('waiting for peers to say what they hold of its origin');
    return reasons;
  }

  get isReady(): boolean {
    return this.reasons().length === 0;
  }
}
