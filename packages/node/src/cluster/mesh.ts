import { connect, type Socket } from 'node:net';
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls';
import { backoffDelay, type PeerFrame, parseHostPort } from '@meshchat/protocol';
import type { Logger } from 'pino';
import { DEAD_PEER_RETRY_MS, PEER_BACKOFF, PEER_HANDSHAKE_TIMEOUT_MS } from '../constants.js';
import { type PeerHello, PeerLink, type PeerLinkIdentity } from './peer-link.js';

export interface MeshHandlers {
  onLinkUp(nodeId: string, hello: PeerHello): void;
  onLinkDown(nodeId: string): void;
  onFrame(nodeId: string, frame: PeerFrame, raw: Uint8Array): void;
}

export interface MeshDeps {
  identity: PeerLinkIdentity;
  seeds: readonly string[];
  /** With peer TLS: the options to dial `host` with (our certificate, the cluster CA). */
  dialTls?: (host: string) => ConnectionOptions;
  /** Members to keep a link to: nodeId -> peer address, and whether it is held dead. */
  wantedPeers: () => Map<string, { address: string; isDead: boolean }>;
  handlers: MeshHandlers;
  random: () => number;
  log: Logger;
}

interface DialState {
  attempt: number;
  notBefore: number;
  inFlight: boolean;
  // A member held dead is still dialled now and then: after a partition heals, both
  // sides may hold the other dead, and only a new link lets them refute it.
  isDead: boolean;
}

/**
 * The full mesh: one authenticated link per pair of nodes. Dials the seeds and every
 * live member it has no link to (with backoff and jitter), accepts links from others,
 * and when two nodes dial each other at once keeps the link opened by the node with
 * the smaller id, on both sides alike.
 */
export class Mesh {
  private readonly links = new Map<string, PeerLink>();
  private readonly dials = new Map<string, DialState>();
  // Which node answered at a seed address, so a linked seed is not dialled again.
  private readonly seedNodes = new Map<string, string>();
  // Links still in their handshake, so close() can end them too.
  private readonly pending = new Set<PeerLink>();
  // Peers whose link lost a tie-break on their side, waiting for the link they kept.
  private readonly replacing = new Map<string, NodeJS.Timeout>();
  private isClosed = false;

  constructor(private readonly deps: MeshDeps) {}

  get linkedPeers(): string[] {
    return [...this.links.keys()];
  }

  /** How many peers are linked, without building the list (hot path: per message). */
  get linkCount(): number {
    return this.links.size;
  }

  isLinked(nodeId: string): boolean {
    return this.links.has(nodeId);
  }

  outboundBytes(nodeId: string): number {
    return this.links.get(nodeId)?.outboundBytes ?? 0;
  }

  send(nodeId: string, frame: PeerFrame): boolean {
    const link = this.links.get(nodeId);
    if (!link) return false;
    link.send(frame);
    return true;
  }

  sendEncoded(nodeId: string, bytes: Uint8Array): boolean {
    const link = this.links.get(nodeId);
    if (!link) return false;
    link.sendEncoded(bytes);
    return true;
  }

  /** The same bytes to every linked peer: encode once, write many. */
  broadcastEncoded(bytes: Uint8Array): void {
    for (const link of this.links.values()) link.sendEncoded(bytes);
  }

  accept(socket: Socket): void {
    if (this.isClosed) {
      socket.destroy();
      return;
    }
    this.pending.add(new PeerLink(socket, false, this.deps.identity, this.linkHandlers(undefined), this.deps.log));
  }

  /** Dials whatever should be linked and is not; called every heartbeat. */
  maintain(now: number): void {
    if (this.isClosed) return;
    const targets = new Map<string, boolean>();
    for (const seed of this.deps.seeds) {
      const known = this.seedNodes.get(seed);
      if (!known || !this.links.has(known)) targets.set(seed, false);
    }
    for (const [nodeId, { address, isDead }] of this.deps.wantedPeers()) {
      if (!this.links.has(nodeId) && !targets.has(address)) targets.set(address, isDead);
    }
    for (const [address, isDead] of targets) this.maybeDial(address, now, isDead);
  }

  /** Drops the link to a peer declared dead; it refutes and reconnects if alive. */
  disconnectDead(nodeId: string): void {
    this.links.get(nodeId)?.close('PEER_DEAD', 'this node holds you dead; refute and reconnect');
  }

  close(): void {
    this.isClosed = true;
    for (const timer of this.replacing.values()) clearTimeout(timer);
    for (const link of [...this.links.values()]) link.close('SHUTTING_DOWN', 'the node is shutting down');
    for (const link of this.pending) link.close('SHUTTING_DOWN', 'the node is shutting down');
  }

  private maybeDial(address: string, now: number, isDead: boolean): void {
    const dial = this.dials.get(address) ?? { attempt: 0, notBefore: 0, inFlight: false, isDead };
    this.dials.set(address, dial);
    if (isDead && !dial.isDead) dial.notBefore = now + DEAD_PEER_RETRY_MS;
    if (!isDead && dial.isDead) {
      // Alive again (it refuted the verdict): dial it as any live member from now on,
      // not at the pace set when it was declared dead.
      dial.notBefore = 0;
      dial.attempt = 0;
    }
    dial.isDead = isDead;
    if (dial.inFlight || dial.notBefore > now) return;
    dial.inFlight = true;
    const { host, port } = parseHostPort(address);
    const tls = this.deps.dialTls?.(host);
    const socket = tls ? tlsConnect({ ...tls, host, port }) : connect({ host, port, noDelay: true });
    const failed = (reason: string) => {
      if (!dial.inFlight) return;
      dial.inFlight = false;
      const delay = backoffDelay(dial.attempt++, PEER_BACKOFF, this.deps.random);
      dial.notBefore = Date.now() + (dial.isDead ? Math.max(delay, DEAD_PEER_RETRY_MS) : delay);
      this.deps.log.debug({ address, reason, attempt: dial.attempt }, 'peer dial failed');
    };
    socket.once('error', (err: NodeJS.ErrnoException) => {
      // A certificate problem will not fix itself on a retry: say so where it is seen.
      if (tls && /CERT|SSL|TLS|ALTNAME|SELF_SIGNED|VERIFY/.test(err.code ?? '')) {
        this.deps.log.warn({ address, reason: err.code }, `peer TLS handshake failed: ${err.message}`);
      }
      failed(err.code ?? err.message);
    });
    socket.once(tls ? 'secureConnect' : 'connect', () => {
      socket.removeAllListeners('error');
      if (tls) socket.setNoDelay(true);
      const link = new PeerLink(socket, true, this.deps.identity, this.linkHandlers(address), this.deps.log);
      this.pending.add(link);
      socket.once('close', () => failed('closed during handshake'));
    });
  }

  private linkHandlers(dialedAddress: string | undefined) {
    return {
      onEstablished: (link: PeerLink) => {
        this.pending.delete(link);
        if (dialedAddress) {
          const dial = this.dials.get(dialedAddress);
          if (dial) {
            dial.inFlight = false;
            dial.attempt = 0;
          }
          if (link.nodeId) this.seedNodes.set(dialedAddress, link.nodeId);
        }
        this.register(link);
      },
      onFrame: (link: PeerLink, frame: PeerFrame, raw: Uint8Array) => {
        if (this.links.get(link.nodeId as string) === link)
          this.deps.handlers.onFrame(link.nodeId as string, frame, raw);
      },
      onClosed: (link: PeerLink, wasEstablished: boolean) => {
        this.pending.delete(link);
        const nodeId = link.nodeId;
        // The handshake named the node at this address even if the link then lost a
        // tie-break: remember it, so a linked seed is not dialled again and again.
        if (dialedAddress && nodeId) this.seedNodes.set(dialedAddress, nodeId);
        if (!nodeId || !wasEstablished || this.links.get(nodeId) !== link) return;
        this.links.delete(nodeId);
        // Our own shutdown is not news about the peer.
        if (this.isClosed) return;
        if (link.closedByPeerWith === 'DUPLICATE_LINK') {
          // The peer kept the other link of a simultaneous dial; it is on its way.
          this.awaitReplacement(nodeId);
          return;
        }
        this.deps.log.info({ peer: nodeId }, 'peer link down');
        this.deps.handlers.onLinkDown(nodeId);
      },
    };
  }

  // After a tie-break closed our link, the peer's preferred link normally completes in
  // a moment; only if it does not is the peer reported down.
  private awaitReplacement(nodeId: string): void {
    const timer = setTimeout(() => {
      this.replacing.delete(nodeId);
      if (this.links.has(nodeId) || this.isClosed) return;
      this.deps.log.info({ peer: nodeId }, 'peer link down (no replacement after a tie-break)');
      this.deps.handlers.onLinkDown(nodeId);
    }, PEER_HANDSHAKE_TIMEOUT_MS);
    timer.unref();
    this.replacing.set(nodeId, timer);
  }

  private register(link: PeerLink): void {
    const nodeId = link.nodeId as string;
    clearTimeout(this.replacing.get(nodeId));
    this.replacing.delete(nodeId);
    const existing = this.links.get(nodeId);
    if (existing && !this.shouldReplace(existing, link)) {
      link.close('DUPLICATE_LINK', 'a link between these nodes already exists');
      return;
    }
    this.links.set(nodeId, link);
    existing?.close('DUPLICATE_LINK', 'replaced by another link between these nodes');
    this.deps.log.info(
      { peer: nodeId, remote: link.remoteAddress, dialer: link.isDialer, replaced: existing !== undefined },
      'peer link up',
    );
    // Also after a replacement: the peer may have restarted, so membership, presence
    // and anti-entropy start over on the new link.
    this.deps.handlers.onLinkUp(nodeId, link.remote as PeerHello);
  }

  // Both sides keep the link dialled by the smaller node id; between two links dialled
  // by the same side the newer wins (the older is likely half-open after a restart).
  private shouldReplace(existing: PeerLink, candidate: PeerLink): boolean {
    if (existing.isDialer === candidate.isDialer) return true;
    const selfId = this.deps.identity.hello().nodeId;
    const preferredDialerIsSelf = selfId < (candidate.nodeId as string);
    return candidate.isDialer === preferredDialerIsSelf;
  }
}
