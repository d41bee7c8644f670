import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { ErrorCode } from '@meshchat/protocol';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ChatMetrics } from '../chat/chat-metrics.js';
import type { CommitStats } from '../store/group-commit.js';

/** State the node's gauges read when /metrics is scraped (nothing is sampled between). */
export interface MetricSources {
  clientConnections(): number;
  sessions(): number;
  activeRooms(): number;
  storedRooms(): number;
  storeBytes(): number;
  peerLinks(): number;
  memberStates(): readonly { state: string }[];
  antiEntropyBacklog(): number;
  antiEntropySent(): number;
  heldBack(): number;
  awaitingReplicas(): number;
  isReady(): boolean;
}

// Ack latency buckets: a local commit is ~2 ms (group commit), a peer's adds a round
// trip and its commit; seconds mean a replica is failing or the node is overloaded.
const ACK_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
// Store commits: an fsync alone is ~1-2.5 ms on an idle disk; tens of ms mean the disk or
// the CPU is saturated, and every ack and relay waits that long.
const COMMIT_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
const MEMBER_STATES = ['alive', 'suspect', 'dead'] as const;

/**
 * The node's Prometheus metrics, in a registry of its own (tests run several nodes in
 * one process). Counters are incremented where things happen; gauges read the node's
 * state at scrape time. docs/operations.md says what each means and what to alert on.
 */
export class NodeMetrics implements ChatMetrics {
  readonly registry = new Registry();
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 10 });
  private readonly messagesAccepted: Counter;
  private readonly messagesDelivered: Counter;
  private readonly relayed: Counter<'direction'>;
  private readonly catchUpReceived: Counter;
  private readonly acks: Histogram;
  private readonly commits: Histogram;
  private readonly commitWaits: Histogram;
  private readonly committedMessages: Counter;
  private readonly clientErrors: Counter<'code'>;
  private readonly resumes: Counter;
  private readonly peersDeclaredDead: Counter;
  private readonly tlsFailures: Counter<'listener'>;

  constructor(nodeId: string, sources: MetricSources) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ node: nodeId });
    this.loopDelay.enable();
    const counter = <L extends string = string>(name: string, help: string, labelNames: readonly L[] = []) =>
      new Counter<L>({ name, help, labelNames, registers });
    const histogram = (name: string, help: string, buckets: number[]) =>
      new Histogram({ name, help, buckets, registers });
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    gauge('meshchat_client_connections', 'Open client connections, with or without a hello', () =>
      sources.clientConnections(),
    );
    gauge('meshchat_sessions', 'Client sessions welcomed and open', () => sources.sessions());
    gauge('meshchat_rooms_active', 'Rooms with a session of this node in them', () => sources.activeRooms());
    gauge('meshchat_rooms_stored', 'Rooms this node holds messages of', () => sources.storedRooms());
    gauge('meshchat_store_bytes', 'Size of the store file on disk (0 for the memory store)', () =>
      sources.storeBytes(),
    );
    gauge('meshchat_peer_links', 'Authenticated peer links up', () => sources.peerLinks());
    gauge('meshchat_antientropy_backlog', 'Messages queued for peers by anti-entropy and not yet sent', () =>
      sources.antiEntropyBacklog(),
    );
    gauge('meshchat_replication_held_back', 'Messages from peers waiting for a predecessor', () => sources.heldBack());
    gauge(
      'meshchat_replication_awaiting_replicas',
      'Local messages waiting for peers to commit them before the ack',
      () => sources.awaitingReplicas(),
    );
    gauge('meshchat_ready', '1 when /healthz reports ready (store open, joined the mesh)', () =>
      sources.isReady() ? 1 : 0,
    );
    new Gauge({
      name: 'meshchat_members',
      help: 'Other cluster members by state, as this node sees them',
      labelNames: ['state'],
      registers,
      collect() {
        const counts = new Map<string, number>(MEMBER_STATES.map((s) => [s, 0]));
        for (const { state } of sources.memberStates()) counts.set(state, (counts.get(state) ?? 0) + 1);
        for (const [state, count] of counts) this.set({ state }, count);
      },
    });
    const loopDelay = this.loopDelay;
    new Gauge({
      name: 'meshchat_event_loop_lag_seconds',
      help: 'Event loop delay since the previous scrape: p50, p99 and max',
      labelNames: ['stat'],
      registers,
      collect() {
        this.set({ stat: 'p50' }, loopDelay.percentile(50) / 1e9);
        this.set({ stat: 'p99' }, loopDelay.percentile(99) / 1e9);
        this.set({ stat: 'max' }, loopDelay.max / 1e9);
        loopDelay.reset();
      },
    });
    gauge('process_resident_memory_bytes', 'Resident memory of the node process', () => process.memoryUsage.rss());
    let sentSoFar = 0;
    new Counter({
      name: 'meshchat_catchup_sent_messages_total',
      help: 'Messages this node sent peers in anti-entropy batches',
      registers,
      collect() {
        const sent = sources.antiEntropySent();
        if (sent > sentSoFar) this.inc(sent - sentSoFar);
        sentSoFar = sent;
      },
    });
    this.catchUpReceived = counter(
      'meshchat_catchup_received_messages_total',
      'Messages received from peers in anti-entropy batches (stored unless already held)',
    );
    this.messagesAccepted = counter(
      'meshchat_messages_accepted_total',
      "Local clients' messages (room and direct) committed here",
    );
    this.relayed = counter(
      'meshchat_messages_relayed_total',
      'Live relay frames: out = sent to peers (one per peer), in = received from peers',
      ['direction'],
    );
    this.messagesDelivered = counter(
      'meshchat_messages_delivered_total',
      'Message and direct frames queued for local sessions',
    );
    this.acks = histogram(
      'meshchat_ack_latency_seconds',
      'From a send or dm received to its ack (local commit and the write quorum)',
      ACK_BUCKETS_S,
    );
    this.commits = histogram(
      'meshchat_store_commit_seconds',
      'Durable store group commits: from the start of the write to fsync done',
      COMMIT_BUCKETS_S,
    );
    this.commitWaits = histogram(
      'meshchat_store_commit_wait_seconds',
      'How long the first message of each group commit was queued before the commit began',
      COMMIT_BUCKETS_S,
    );
    this.committedMessages = counter(
      'meshchat_store_committed_messages_total',
      'Messages committed by the durable store (over meshchat_store_commit_seconds_count: messages per commit)',
    );
    this.clientErrors = counter(
      'meshchat_client_errors_total',
      'Error frames sent to clients, by code (RATE_LIMITED, SLOW_CONSUMER, TOO_MANY_CONNECTIONS, ...)',
      ['code'],
    );
    this.resumes = counter(
      'meshchat_client_resumes_total',
      'Clients that resumed here after losing their node or connection (failovers seen)',
    );
    this.peersDeclaredDead = counter('meshchat_peers_declared_dead_total', 'Times this node declared a peer dead');
    this.tlsFailures = counter(
      'meshchat_tls_handshake_failures_total',
      'TLS handshakes that failed on a listener (plaintext on a TLS port, a bad certificate)',
      ['listener'],
    );
    // Pre-set, so the series exist from the first scrape and rate() works at once.
    for (const direction of ['in', 'out']) this.relayed.inc({ direction }, 0);
  }

  accepted(): void {
    this.messagesAccepted.inc();
  }

  delivered(sessions: number): void {
    if (sessions > 0) this.messagesDelivered.inc(sessions);
  }

  acked(latencyMs: number): void {
    this.acks.observe(latencyMs / 1000);
  }

  storeCommitted({ items, waitedMs, commitMs }: CommitStats): void {
    this.commits.observe(commitMs / 1000);
    this.commitWaits.observe(waitedMs / 1000);
    this.committedMessages.inc(items);
  }

  errorSent(code: ErrorCode): void {
    this.clientErrors.inc({ code });
  }

  resumed(): void {
    this.resumes.inc();
  }

  relayedOut(peers: number): void {
    if (peers > 0) this.relayed.inc({ direction: 'out' }, peers);
  }

  relayedIn(): void {
    this.relayed.inc({ direction: 'in' });
  }

  caughtUp(messages: number): void {
    if (messages > 0) this.catchUpReceived.inc(messages);
  }

  peerDeclaredDead(): void {
    this.peersDeclaredDead.inc();
  }

  tlsHandshakeFailed(listener: 'clients' | 'peers' | 'http'): void {
    this.tlsFailures.inc({ listener });
  }

  /** The text exposition format, for GET /metrics. */
  async render(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }

  stop(): void {
    this.loopDelay.disable();
  }
}
