import { ChatClient, type ChatClientError, type Transport, tcpTransport } from '@meshchat/client';
import { type BenchTextFields, benchText, parseBenchText } from './bench-text.js';
import { DeliveryTally } from './delivery-tally.js';
import {
  type ClientOutage,
  exitWithParent,
  type FailoverClientReport,
  type FailoverResult,
  type FailoverSpec,
  generatorSpec,
  report,
  wallClockMs,
} from './ipc.js';
import { drainUntil, nowUs, publishOpenLoop } from './open-loop.js';

// The client-failover load generator, one process: the room fan-out workload of
// fanout-generator.ts on ChatClients, the library itself, since what is measured is its
// failover: leaving a dead or hung node, resuming on another from its cursor, resending
// its outbox and showing each message once. A ChatClient decodes and validates every
// frame, which is why the fan-out generator uses raw clients; at 1,000 msgs/s (30,000
// messages shown per second) that is affordable.
//
// Client i starts on node i mod N. Its other seeds follow in one order for half the
// clients of a node and in the other order for the rest, so a failed node's clients
// spread over the survivors as shuffled seed lists would spread them. Every client uses
// the library's defaults for pings, timeouts and backoff.

const clientIdOf = (index: number) => `failover-${process.pid}-${index}`;

// ServerList shuffles the seeds in the client's constructor (Fisher-Yates, each swap
// with j = floor(random() * (i + 1))); a draw just below 1 swaps every element with
// itself. Given while the client is built, it keeps the seeds in the order given; the
// backoff's jitter gets Math.random afterwards.
const KEEP_SEED_ORDER = 0.999999;
// close() waits for the node to answer bye for at most a second (BYE_TIMEOUT_MS).
const CLOSE_TIMEOUT_MS = 2000;

function seedsOf(index: number, servers: readonly string[]): string[] {
  const home = index % servers.length;
  const others = [...servers.slice(home + 1), ...servers.slice(0, home)];
  if (Math.floor(index / servers.length) % 2 === 1) others.reverse();
  return [servers[home] as string, ...others];
}

class FailoverLoad {
  private readonly clients: ChatClient[] = [];
  private readonly reports: FailoverClientReport[] = [];
  // Each client's latest outage, if any.
  private readonly outageOf: (ClientOutage | undefined)[] = [];
  private readonly tally: DeliveryTally;
  // Per (publisher, message number): 1 once the send was acked.
  private readonly acked: Uint8Array;
  private readonly fields: BenchTextFields = { publisher: 0, n: 0, sentAtUs: 0 };
  private readonly rejected: Record<string, number> = {};
  private readonly clientErrors: Record<string, number> = {};
  private ackedCount = 0;
  private settledCount = 0;
  private invalid = 0;
  private lastActivityUs = 0;
  // close() makes every client emit `disconnected`: not an outage.
  private isClosing = false;

  constructor(private readonly spec: FailoverSpec) {
    this.tally = new DeliveryTally(spec);
    this.acked = new Uint8Array(spec.publishers * this.tally.capacity);
  }

  async connect(): Promise<void> {
    const { spec } = this;
    for (let index = 0; index < spec.clients; index++) this.clients.push(this.build(index));
    await Promise.all(this.clients.map((client) => client.connect()));
    await Promise.all(this.clients.map((client) => client.join(spec.room)));
    for (const [index, client] of this.clients.entries()) {
      this.reports.push({ startNodeId: client.nodeId as string, outages: [] });
      this.track(index, client);
    }
  }

  async run(): Promise<FailoverResult> {
    const { spec } = this;
    const published = await publishOpenLoop(spec.rate, spec.durationMs, (k, now) => this.send(k, now));
    this.lastActivityUs = Math.max(this.lastActivityUs, nowUs());
    await drainUntil(
      () => this.settledCount === published.sent && this.tally.uniqueDeliveries >= published.sent * spec.clients,
      () => this.lastActivityUs,
    );
    return {
      sent: published.sent,
      sendWindowMs: published.windowMs,
      skipped: published.skipped,
      maxTickGapMs: published.maxTickGapUs / 1000,
      acked: this.ackedCount,
      unsettled: published.sent - this.settledCount,
      rejected: this.rejected,
      clientErrors: this.clientErrors,
      deliveries: this.tally.deliveries,
      // Lost: an acked message some receiver never showed; unacked ones may be missing.
      ...this.tally.lostAndDuplicated(published.sent, (publisher, n) => this.isAcked(publisher, n)),
      reordered: this.tally.reordered,
      invalid: this.invalid,
      clients: this.reports,
    };
  }

  async close(): Promise<void> {
    this.isClosing = true;
    const timeout = new Promise((resolve) => setTimeout(resolve, CLOSE_TIMEOUT_MS).unref());
    await Promise.race([Promise.all(this.clients.map((client) => client.close())), timeout]);
  }

  private build(index: number): ChatClient {
    let isBuilding = true;
    const seeds = seedsOf(index, this.spec.servers);
    const client = new ChatClient({
      servers: seeds,
      nick: `f${index}`,
      clientId: clientIdOf(index),
      random: () => (isBuilding ? KEEP_SEED_ORDER : Math.random()),
      transport: this.welcomeTimingTransport(index),
    });
    isBuilding = false;
    if (client.knownServers.join() !== seeds.join()) {
      throw new Error(`client ${index} reordered its seeds; the generator cannot place it`);
    }
    return client;
  }

  // TCP, noting when the first bytes (the welcome) arrive on a connection opened during an outage.
  private welcomeTimingTransport(index: number): Transport {
    return {
      open: (server, handlers) => {
        let isFirst = true;
        return tcpTransport.open(server, {
          ...handlers,
          onData: (chunk) => {
            const outage = this.outageOf[index];
            if (isFirst && outage && outage.welcomedAt === undefined) outage.welcomedAt = wallClockMs();
            isFirst = false;
            handlers.onData(chunk);
          },
        });
      },
    };
  }

  // From here on every loss of a node and every resume is recorded, with the time.
  private track(index: number, client: ChatClient): void {
    const { outages } = this.reports[index] as FailoverClientReport;
    client.on('disconnected', ({ nodeId, reason }) => {
      if (this.isClosing) return;
      const outage: ClientOutage = { lostAt: wallClockMs(), nodeId, reason };
      outages.push(outage);
      this.outageOf[index] = outage;
    });
    client.on('connected', ({ nodeId, caughtUp }) => {
      const outage = this.outageOf[index];
      if (!outage || outage.resumedAt !== undefined) return;
      outage.resumedAt = wallClockMs();
      outage.resumedOn = nodeId;
      outage.caughtUp = caughtUp;
    });
    client.on('message', (message) => {
      const outage = this.outageOf[index];
      if (outage && outage.receivingAt === undefined) outage.receivingAt = wallClockMs();
      this.onMessage(index, message.text);
    });
    client.on('error', (error) => this.count(this.clientErrors, error.code));
  }

  // Message k goes to publisher k mod publishers, as its n-th.
  private send(k: number, now: number): void {
    const publisher = k % this.spec.publishers;
    const n = Math.floor(k / this.spec.publishers);
    const client = this.clients[publisher] as ChatClient;
    client.send(this.spec.room, benchText(publisher, n, now)).then(
      () => {
        this.acked[publisher * this.tally.capacity + n] = 1;
        this.ackedCount++;
        this.settledCount++;
        this.lastActivityUs = nowUs();
      },
      (error: ChatClientError) => {
        this.settledCount++;
        this.count(this.rejected, error.code);
      },
    );
  }

  private onMessage(receiver: number, text: string): void {
    const { fields } = this;
    this.lastActivityUs = nowUs();
    if (!parseBenchText(text, fields) || !this.tally.holds(fields.publisher, fields.n)) {
      this.invalid++;
      return;
    }
    this.tally.record(receiver, fields.publisher, fields.n);
  }

  private isAcked(publisher: number, n: number): boolean {
    return this.acked[publisher * this.tally.capacity + n] === 1;
  }

  private count(counts: Record<string, number>, code: string): void {
    counts[code] = (counts[code] ?? 0) + 1;
  }
}

async function main(): Promise<void> {
  exitWithParent();
  const load = new FailoverLoad(generatorSpec<FailoverSpec>());
  await load.connect();
  const started = new Promise<void>((resolve) => process.once('message', () => resolve()));
  await report({ type: 'ready' });
  await started;
  const result = await load.run();
  await load.close();
  // Stays (idle) until the bench has read this process's CPU time and disconnects.
  await report({ type: 'failover-result', result });
}

main().catch(async (err: unknown) => {
  await report({ type: 'failed', message: `failover generator: ${err instanceof Error ? err.message : String(err)}` });
  process.exit(1);
});
