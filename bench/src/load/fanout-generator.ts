import { encodeFrame, LENGTH_PREFIX_BYTES } from '@meshchat/protocol';
import { CLIENT_PING_MS, VALIDATE_EVERY, WARMUP_MAX_RATE, WARMUP_MS } from '../constants.js';
import { LatencyHistogram } from '../stats.js';
import { type BenchTextFields, benchClientMsgId, benchText, readBenchText } from './bench-text.js';
import { DeliveryTally } from './delivery-tally.js';
import { exitWithParent, type FanoutResult, type FanoutSpec, generatorSpec, report } from './ipc.js';
import { findStringField } from './msgpack-peek.js';
import { drainUntil, nowUs, publishOpenLoop, type ScheduleStats } from './open-loop.js';
import { type FastType, RawClient } from './raw-client.js';

// The room fan-out load generator, one process: `clients` raw clients spread evenly
// over the nodes, all in one room; the first `publishers` of them publish open-loop at
// an aggregate `rate` for `durationMs`, and every client counts what it receives.
// A warm-up phase runs first (before the bench reads any CPU time) so that the
// measurement sees JIT-compiled nodes; its messages carry publisher labels from
// WARMUP_LABEL up and are not counted.

const WARMUP_LABEL = 50;
const clientIdOf = (index: number) => `bench-${process.pid}-${index}`;

class FanoutLoad {
  private readonly clients: RawClient[] = [];
  private readonly histogram = new LatencyHistogram();
  private readonly tally: DeliveryTally;
  private readonly fields: BenchTextFields = { publisher: 0, n: 0, sentAtUs: 0 };
  private warmupDeliveries = 0;
  private acked = 0;
  private invalid = 0;
  private validated = 0;
  private disconnected = 0;
  private isRunning = false;
  private lastDeliveryUs = 0;

  constructor(private readonly spec: FanoutSpec) {
    this.tally = new DeliveryTally(spec);
  }

  async connect(): Promise<void> {
    const { spec } = this;
    const connected = await Promise.all(
      Array.from({ length: spec.clients }, (_, index) =>
        RawClient.connect(spec.servers[index % spec.servers.length] as string, {
          onRawFrame: (type, buf, start, end, at) => this.onRawFrame(index, type, buf, start, end, at),
          onClose: () => {
            if (this.isRunning) this.disconnected++;
          },
        }),
      ),
    );
    this.clients.push(...connected);
    await Promise.all(this.clients.map((client, index) => client.hello(`b${index}`, clientIdOf(index))));
    await Promise.all(this.clients.map((client) => client.join(spec.room)));
    setInterval(() => {
      for (const client of this.clients) client.ping();
    }, CLIENT_PING_MS).unref();
  }

  async warmUp(): Promise<void> {
    const { sent } = await this.publish(Math.min(this.spec.rate, WARMUP_MAX_RATE), WARMUP_MS, WARMUP_LABEL);
    await this.drain(() => this.warmupDeliveries >= sent * this.spec.clients);
  }

  async run(): Promise<FanoutResult> {
    const { spec } = this;
    this.isRunning = true;
    const startUs = nowUs();
    const published = await this.publish(spec.rate, spec.durationMs, 0);
    // Acks come after the deliveries of a message on other nodes (they wait for a
    // replica's commit): the drain waits for both.
    await this.drain(
      () => this.tally.uniqueDeliveries >= published.sent * spec.clients && this.acked >= published.sent,
    );
    this.isRunning = false;
    const errorCodes: Record<string, number> = {};
    for (const client of this.clients) {
      for (const [code, count] of client.errorCodes) errorCodes[code] = (errorCodes[code] ?? 0) + count;
    }
    return {
      sent: published.sent,
      sendWindowMs: published.windowMs,
      skipped: published.skipped,
      maxTickGapMs: published.maxTickGapUs / 1000,
      acked: this.acked,
      deliveries: this.tally.deliveries,
      deliveryWindowMs: Math.max(0, (this.lastDeliveryUs - startUs) / 1000),
      ...this.tally.lostAndDuplicated(published.sent),
      reordered: this.tally.reordered,
      invalid: this.invalid,
      validated: this.validated,
      disconnected: this.disconnected,
      errorCodes,
      latency: this.histogram.summary(),
    };
  }

  close(): void {
    for (const client of this.clients) client.close();
  }

  // Message k goes to publisher k mod publishers, as its n-th; one socket write per
  // publisher per tick.
  private publish(rate: number, durationMs: number, label: number): Promise<ScheduleStats> {
    const { spec } = this;
    const batches: Uint8Array[][] = Array.from({ length: spec.publishers }, () => []);
    const send = (k: number, now: number) => {
      const publisher = k % spec.publishers;
      const n = Math.floor(k / spec.publishers);
      const text = benchText(label + publisher, n, now);
      const clientMsgId = benchClientMsgId(label + publisher, n);
      (batches[publisher] as Uint8Array[]).push(encodeFrame({ type: 'send', room: spec.room, text, clientMsgId }));
    };
    const flush = () => {
      for (let publisher = 0; publisher < spec.publishers; publisher++) {
        const batch = batches[publisher] as Uint8Array[];
        if (batch.length === 0) continue;
        this.clients[publisher]?.write(batch.length === 1 ? (batch[0] as Uint8Array) : Buffer.concat(batch));
        batch.length = 0;
      }
    };
    return publishOpenLoop(rate, durationMs, send, flush);
  }

  private async drain(isComplete: () => boolean): Promise<void> {
    // The drain's quiet period starts from its beginning at the earliest.
    this.lastDeliveryUs = Math.max(this.lastDeliveryUs, nowUs());
    await drainUntil(isComplete, () => this.lastDeliveryUs);
  }

  private onRawFrame(receiver: number, type: FastType, buf: Buffer, start: number, end: number, now: number): void {
    if (type === 'ack') {
      if (this.isRunning) this.acked++;
      return;
    }
    const { fields } = this;
    const text = findStringField(buf, start, end, 'text');
    if (!text || !readBenchText(buf, text.at, text.length, fields)) {
      this.invalid++;
      return;
    }
    this.lastDeliveryUs = now;
    if (fields.publisher >= WARMUP_LABEL) {
      this.warmupDeliveries++;
      return;
    }
    if (!this.tally.holds(fields.publisher, fields.n)) {
      this.invalid++;
      return;
    }
    this.histogram.record(now - fields.sentAtUs);
    this.tally.record(receiver, fields.publisher, fields.n);
    if (this.tally.deliveries % VALIDATE_EVERY === 0)
      this.validateSample(buf.subarray(start - LENGTH_PREFIX_BYTES, end));
  }

  // The fast path trusts the text; a sample proves the frames behind it are valid
  // message frames of the room whose clientMsgId and sender match that text.
  private validateSample(frame: Buffer): void {
    this.validated++;
    const decoded = RawClient.validate(frame);
    const { publisher, n } = this.fields;
    const isValid =
      !(decoded instanceof Error) &&
      decoded.type === 'message' &&
      decoded.room === this.spec.room &&
      decoded.clientMsgId === benchClientMsgId(publisher, n) &&
      decoded.from.clientId === clientIdOf(publisher);
    if (!isValid) this.invalid++;
  }
}

async function main(): Promise<void> {
  exitWithParent();
  const load = new FanoutLoad(generatorSpec<FanoutSpec>());
  await load.connect();
  await load.warmUp();
  const started = new Promise<void>((resolve) => process.once('message', () => resolve()));
  await report({ type: 'ready' });
  await started;
  const result = await load.run();
  load.close();
  // Stays (idle) until the bench has read this process's CPU time and disconnects.
  await report({ type: 'result', result });
}

main().catch(async (err: unknown) => {
  await report({ type: 'failed', message: `fan-out generator: ${err instanceof Error ? err.message : String(err)}` });
  process.exit(1);
});
