import type { MemberState, MemberStateName, PeerFrame, PeerFrameOf } from '@meshchat/protocol';
import type { Logger } from 'pino';

export interface MembershipTiming {
  heartbeatMs: number;
  suspectAfterMs: number;
  deadAfterMs: number;
  /** A dead member not heard from for this long is dropped from the list. */
  forgetDeadAfterMs: number;
  /** Peers asked to probe a suspect on our behalf (SWIM's k). */
  indirectProbes: number;
  /** Heartbeat rounds between full membership exchanges with every peer. */
  fullSyncEveryTicks: number;
}

export interface SelfAddresses {
  nodeId: string;
  peerAddress: string;
  clientAddress: string;
  httpAddress: string;
}

export interface MembershipDeps {
  self: SelfAddresses;
  /** Starts above every incarnation this node had before a restart (e.g. start time). */
  initialIncarnation: number;
  timing: MembershipTiming;
  now: () => number;
  random: () => number;
  /** Sends to a peer over its direct link; false when there is no link. */
  send: (nodeId: string, frame: PeerFrame) => boolean;
  onChange: (member: MemberState, previous: MemberStateName | undefined) => void;
  log: Logger;
}

/** What /cluster shows of a member beside its gossiped state. */
export interface MemberView extends MemberState {
  isSelf: boolean;
  isLinked: boolean;
  lastHeardAgeMs: number | null;
}

interface MemberRecord {
  state: MemberState;
  isLinked: boolean;
  lastHeardAt: number;
  // The indirect probe round under way while the member is suspect.
  probe: { nonce: number; asked: Set<string>; nacks: number; startedAt: number } | undefined;
  // Rounds the latest change of this record is still piggybacked on heartbeats.
  gossipLeft: number;
}

interface RelayedProbe {
  requester: string;
  requesterNonce: number;
  target: string;
  deadline: number;
}

// Suspicion is local: a node suspects a peer it has not heard from and asks others to
// probe it. Only the verdict "dead" is gossiped; a live node that hears it is dead
// refutes with a higher incarnation.
const DEATH_OUTRANKS: Record<MemberStateName, number> = { alive: 0, suspect: 0, dead: 1 };

// A tick this many heartbeats late means this node was frozen, not its peers silent.
const PAUSE_FACTOR = 4;

/**
 * SWIM-style membership for a full mesh (memberlist's model, with heartbeats on
 * every link instead of random pings): heartbeats carry piggybacked updates, silence
 * makes a peer suspect, indirect probes through k other peers keep a peer behind one
 * slow link alive, and dead is declared after deadAfterMs without evidence of life.
 * A crashed peer (its socket closed, and no other peer can reach it) is dead at once.
 * Sans-IO: the clock, randomness and "send to peer" are injected.
 */
export class Membership {
  private readonly members = new Map<string, MemberRecord>();
  private readonly relayedProbes = new Map<number, RelayedProbe>();
  private incarnation: number;
  private heartbeat = 0;
  private nonce = 0;
  private ticks = 0;
  private lastTickAt: number | undefined;
  private selfGossipLeft = 0;

  constructor(private readonly deps: MembershipDeps) {
    this.incarnation = deps.initialIncarnation;
    this.selfGossipLeft = this.retransmitLimit();
  }

  get selfId(): string {
    return this.deps.self.nodeId;
  }

  selfState(): MemberState {
    return {
      ...this.deps.self,
      incarnation: this.incarnation,
      state: 'alive',
      heartbeat: this.heartbeat,
    };
  }

  get(nodeId: string): MemberState | undefined {
    return nodeId === this.selfId ? this.selfState() : this.members.get(nodeId)?.state;
  }

  /** Every member but this node that is not dead. */
  liveMembers(): MemberState[] {
    return this.others().filter((m) => m.state !== 'dead');
  }

  /** Every member but this node, dead ones included. */
  others(): MemberState[] {
    return [...this.members.values()].map((r) => r.state);
  }

  isAlive(nodeId: string): boolean {
    const state = this.get(nodeId)?.state;
    return state === 'alive' || state === 'suspect';
  }

  view(): MemberView[] {
    const now = this.deps.now();
    const others = [...this.members.values()].map((r) => ({
      ...r.state,
      isSelf: false,
      isLinked: r.isLinked,
      lastHeardAgeMs: now - r.lastHeardAt,
    }));
    const self = { ...this.selfState(), isSelf: true, isLinked: false, lastHeardAgeMs: null };
    return [self, ...others].sort((a, b) => a.nodeId.localeCompare(b.nodeId));
  }

  /** A peer finished the handshake: direct evidence that it is alive. */
  onLinkUp(peer: Omit<MemberState, 'state' | 'heartbeat'>): void {
    const record = this.members.get(peer.nodeId);
    const now = this.deps.now();
    if (!record) {
      this.members.set(peer.nodeId, this.newRecord({ ...peer, state: 'alive', heartbeat: 0 }, now, true));
      this.changed(peer.nodeId, undefined);
    } else {
      record.isLinked = true;
      record.lastHeardAt = now;
      if (peer.incarnation > record.state.incarnation || record.state.state !== 'dead') {
        const previous = record.state.state;
        const isNewer = peer.incarnation > record.state.incarnation;
        record.state = {
          ...record.state,
          ...peer,
          incarnation: Math.max(peer.incarnation, record.state.incarnation),
          state: 'alive',
        };
        record.probe = undefined;
        if (previous !== 'alive' || isNewer) this.changed(peer.nodeId, previous);
      }
      // A peer we hold dead at its current incarnation learns it from the full state
      // sent below, and refutes.
    }
    this.deps.send(peer.nodeId, { type: 'membership', members: this.gossipStates() });
  }

  /** The link closed: suspect at once and ask the others whether they still see it. */
  onLinkDown(nodeId: string): void {
    const record = this.members.get(nodeId);
    if (!record) return;
    record.isLinked = false;
    // Probes we were relaying to it will not be answered: say so now.
    for (const [nonce, relayed] of this.relayedProbes) {
      if (relayed.target !== nodeId) continue;
      this.relayedProbes.delete(nonce);
      this.deps.send(relayed.requester, {
        type: 'ping_ack',
        nonce: relayed.requesterNonce,
        target: nodeId,
        isAlive: false,
      });
    }
    if (record.state.state === 'alive') this.suspect(nodeId, record, 'link closed');
    else if (record.state.state === 'suspect') this.startProbe(nodeId, record);
  }

  /** Any frame from a linked peer is a sign of life. */
  heardFrom(nodeId: string): void {
    const record = this.members.get(nodeId);
    if (!record) return;
    record.lastHeardAt = this.deps.now();
    if (record.state.state === 'suspect') this.clearSuspicion(nodeId, record, 'heard from it directly');
  }

  handleFrame(from: string, frame: MembershipFrame): void {
    switch (frame.type) {
      case 'heartbeat':
        return this.merge(frame.updates, from, frame.heartbeat);
      case 'membership':
        return this.merge(frame.members, from, undefined);
      case 'ping_req':
        return this.onPingReq(from, frame);
      case 'probe':
        this.deps.send(from, { type: 'probe_ack', nonce: frame.nonce });
        return;
      case 'probe_ack':
        return this.onProbeAck(frame);
      case 'ping_ack':
        return this.onPingAck(frame);
    }
  }

  /** Called every heartbeatMs: heartbeats out, timers checked. */
  tick(): void {
    const now = this.deps.now();
    this.forgiveOwnPause(now);
    this.heartbeat++;
    this.ticks++;
    const updates = this.takeUpdates();
    const isFullSync = this.ticks % this.deps.timing.fullSyncEveryTicks === 0;
    const full = isFullSync ? this.gossipStates() : undefined;
    for (const [nodeId, record] of this.members) {
      if (!record.isLinked) continue;
      this.deps.send(nodeId, { type: 'heartbeat', heartbeat: this.heartbeat, updates });
      if (full) this.deps.send(nodeId, { type: 'membership', members: full });
    }
    for (const [nodeId, record] of this.members) this.checkTimers(nodeId, record, now);
    for (const [nonce, relayed] of this.relayedProbes) {
      if (relayed.deadline > now) continue;
      this.relayedProbes.delete(nonce);
      this.deps.send(relayed.requester, {
        type: 'ping_ack',
        nonce: relayed.requesterNonce,
        target: relayed.target,
        isAlive: false,
      });
    }
  }

  // When this node itself was frozen (SIGSTOP, a long GC pause, a suspended VM), every
  // peer looks silent on waking. The silence is ours, not theirs (Lifeguard's local
  // health idea): start their clocks afresh instead of declaring the cluster dead.
  private forgiveOwnPause(now: number): void {
    const gap = this.lastTickAt === undefined ? 0 : now - this.lastTickAt;
    this.lastTickAt = now;
    if (gap <= PAUSE_FACTOR * this.deps.timing.heartbeatMs) return;
    this.deps.log.warn({ pausedMs: gap }, 'this node was paused; peers get a fresh timeout');
    for (const record of this.members.values()) record.lastHeardAt = Math.max(record.lastHeardAt, now);
  }

  private checkTimers(nodeId: string, record: MemberRecord, now: number): void {
    const silence = now - record.lastHeardAt;
    const { suspectAfterMs, deadAfterMs, forgetDeadAfterMs } = this.deps.timing;
    if (record.state.state === 'dead') {
      if (!record.isLinked && silence > forgetDeadAfterMs) {
        this.members.delete(nodeId);
        this.deps.log.info({ peer: nodeId, silentMs: silence }, 'dead member forgotten');
      }
    } else if (record.state.state === 'alive' && silence > suspectAfterMs) {
      this.suspect(nodeId, record, `no heartbeat for ${silence} ms`);
    } else if (record.state.state === 'suspect') {
      if (silence > deadAfterMs) this.declareDead(nodeId, record, `no sign of life for ${silence} ms`);
      // A round runs as long as a helper may take to answer; then a fresh one.
      else if (!record.probe || now - record.probe.startedAt > suspectAfterMs) this.startProbe(nodeId, record);
    }
  }

  private suspect(nodeId: string, record: MemberRecord, why: string): void {
    record.state = { ...record.state, state: 'suspect' };
    this.deps.log.info({ peer: nodeId, why }, 'peer suspected');
    this.deps.onChange(record.state, 'alive');
    this.startProbe(nodeId, record);
  }

  private clearSuspicion(nodeId: string, record: MemberRecord, why: string): void {
    record.state = { ...record.state, state: 'alive' };
    record.probe = undefined;
    this.deps.log.info({ peer: nodeId, why }, 'peer no longer suspected');
    this.deps.onChange(record.state, 'suspect');
  }

  private declareDead(nodeId: string, record: MemberRecord, why: string): void {
    const previous = record.state.state;
    record.state = { ...record.state, state: 'dead' };
    record.probe = undefined;
    this.deps.log.warn({ peer: nodeId, incarnation: record.state.incarnation, why }, 'peer declared dead');
    this.changed(nodeId, previous);
    // Tell everyone now, not on the next heartbeat: peers still waiting on a probe of
    // it get the verdict at once.
    for (const [peer, other] of this.members) {
      if (other.isLinked && peer !== nodeId) this.deps.send(peer, { type: 'membership', members: [record.state] });
    }
  }

  // A new round of indirect probes: ask up to k linked peers to probe the suspect.
  private startProbe(nodeId: string, record: MemberRecord): void {
    const helpers = [...this.members]
      .filter(([id, r]) => id !== nodeId && r.isLinked && r.state.state !== 'dead')
      .map(([id]) => id);
    shuffle(helpers, this.deps.random);
    const asked = new Set(helpers.slice(0, this.deps.timing.indirectProbes));
    const nonce = ++this.nonce;
    record.probe = { nonce, asked, nacks: 0, startedAt: this.deps.now() };
    for (const helper of asked) this.deps.send(helper, { type: 'ping_req', nonce, target: nodeId });
    if (record.isLinked) this.deps.send(nodeId, { type: 'probe', nonce });
    // With nobody to ask, a closed link alone is no proof: when every link drops at
    // once the fault is more likely ours. The suspect dies on the deadAfterMs timeout.
  }

  private onPingReq(from: string, frame: PeerFrameOf<'ping_req'>): void {
    const target = this.members.get(frame.target);
    if (!target?.isLinked) {
      this.deps.send(from, { type: 'ping_ack', nonce: frame.nonce, target: frame.target, isAlive: false });
      return;
    }
    const nonce = ++this.nonce;
    this.relayedProbes.set(nonce, {
      requester: from,
      requesterNonce: frame.nonce,
      target: frame.target,
      deadline: this.deps.now() + this.deps.timing.suspectAfterMs,
    });
    this.deps.send(frame.target, { type: 'probe', nonce });
  }

  private onProbeAck(frame: PeerFrameOf<'probe_ack'>): void {
    const relayed = this.relayedProbes.get(frame.nonce);
    if (!relayed) return;
    this.relayedProbes.delete(frame.nonce);
    this.deps.send(relayed.requester, {
      type: 'ping_ack',
      nonce: relayed.requesterNonce,
      target: relayed.target,
      isAlive: true,
    });
  }

  private onPingAck(frame: PeerFrameOf<'ping_ack'>): void {
    const record = this.members.get(frame.target);
    if (!record || record.state.state === 'dead') return;
    if (frame.isAlive) {
      // A late answer to an earlier round is still evidence of life.
      record.lastHeardAt = this.deps.now();
      if (record.state.state === 'suspect') this.clearSuspicion(frame.target, record, 'an indirect probe reached it');
      return;
    }
    const probe = record.probe;
    if (!probe || probe.nonce !== frame.nonce) return;
    probe.nacks++;
    // Our link is gone and every peer we asked has lost it too: it crashed, do not wait.
    if (!record.isLinked && probe.nacks >= probe.asked.size && record.state.state === 'suspect') {
      this.declareDead(frame.target, record, 'link closed and no peer can reach it');
    }
  }

  private merge(updates: readonly MemberState[], from: string, heartbeat: number | undefined): void {
    if (heartbeat !== undefined) {
      const sender = this.members.get(from);
      if (sender) sender.state = { ...sender.state, heartbeat: Math.max(sender.state.heartbeat, heartbeat) };
    }
    for (const update of updates) {
      if (update.nodeId === this.selfId) this.refuteIfNeeded(update, from);
      else this.mergeOne(update);
    }
  }

  private refuteIfNeeded(update: MemberState, from: string): void {
    if (update.state === 'alive' || update.incarnation < this.incarnation) return;
    this.incarnation = update.incarnation + 1;
    this.selfGossipLeft = this.retransmitLimit();
    this.deps.log.warn({ reportedBy: from, incarnation: this.incarnation }, 'refuting a report that this node is dead');
    // Tell every linked peer now rather than on the next heartbeat.
    for (const [nodeId, record] of this.members) {
      if (record.isLinked) this.deps.send(nodeId, { type: 'membership', members: [this.selfState()] });
    }
  }

  private mergeOne(update: MemberState): void {
    const incoming: MemberState = { ...update, state: update.state === 'dead' ? 'dead' : 'alive' };
    const record = this.members.get(update.nodeId);
    if (!record) {
      // A node we never knew, or forgot, reported dead: nothing to dial or to drop.
      if (incoming.state === 'dead') return;
      this.members.set(update.nodeId, this.newRecord(incoming, this.deps.now(), false));
      this.changed(update.nodeId, undefined);
      return;
    }
    const current = record.state;
    const isNewer =
      incoming.incarnation > current.incarnation ||
      (incoming.incarnation === current.incarnation && DEATH_OUTRANKS[incoming.state] > DEATH_OUTRANKS[current.state]);
    if (isNewer && incoming.state === 'dead' && this.hearsDirectly(record)) {
      // We hear from it ourselves, so the report is stale or from a node cut off from
      // it. Pass it on to the accused, which refutes with a higher incarnation; taking
      // it would cut a healthy link and churn presence for nothing.
      this.deps.send(update.nodeId, { type: 'membership', members: [incoming] });
      return;
    }
    if (!isNewer) {
      record.state = { ...current, heartbeat: Math.max(current.heartbeat, update.heartbeat) };
      return;
    }
    const previous = current.state;
    // Our own suspicion stays until evidence clears it; a newer alive is such evidence.
    record.state = { ...incoming, heartbeat: Math.max(current.heartbeat, update.heartbeat) };
    if (incoming.state === 'alive') {
      record.lastHeardAt = this.deps.now();
      record.probe = undefined;
    } else {
      record.probe = undefined;
      this.deps.log.warn({ peer: update.nodeId, incarnation: incoming.incarnation }, 'peer reported dead by gossip');
    }
    if (previous !== record.state.state || incoming.incarnation > current.incarnation)
      this.changed(update.nodeId, previous);
  }

  private hearsDirectly(record: MemberRecord): boolean {
    return record.isLinked && this.deps.now() - record.lastHeardAt <= this.deps.timing.suspectAfterMs;
  }

  private newRecord(state: MemberState, now: number, isLinked: boolean): MemberRecord {
    return { state, isLinked, lastHeardAt: now, probe: undefined, gossipLeft: this.retransmitLimit() };
  }

  private changed(nodeId: string, previous: MemberStateName | undefined): void {
    const record = this.members.get(nodeId);
    if (!record) return;
    record.gossipLeft = this.retransmitLimit();
    this.deps.onChange(record.state, previous);
  }

  // What we tell others: suspicion is local, so a suspect is gossiped as alive.
  private gossipStates(): MemberState[] {
    const others = [...this.members.values()].map((r) => asGossip(r.state));
    return [this.selfState(), ...others];
  }

  private takeUpdates(): MemberState[] {
    const updates: MemberState[] = [];
    if (this.selfGossipLeft > 0) {
      this.selfGossipLeft--;
      updates.push(this.selfState());
    }
    for (const record of this.members.values()) {
      if (record.gossipLeft <= 0) continue;
      record.gossipLeft--;
      updates.push(asGossip(record.state));
    }
    return updates;
  }

  // memberlist retransmits each update about 3·log(n+1) times: enough to reach
  // everyone with high probability, few enough to keep heartbeats small.
  private retransmitLimit(): number {
    return 3 * Math.ceil(Math.log2(this.members.size + 2));
  }
}

export type MembershipFrame = PeerFrameOf<'heartbeat' | 'membership' | 'ping_req' | 'ping_ack' | 'probe' | 'probe_ack'>;

function asGossip(state: MemberState): MemberState {
  return state.state === 'suspect' ? { ...state, state: 'alive' } : state;
}

function shuffle<T>(items: T[], random: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
}
