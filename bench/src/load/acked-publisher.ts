import { performance } from 'node:perf_hooks';
import { encodeFrame } from '@meshchat/protocol';
import { benchClientMsgId, benchText } from './bench-text.js';
import { RawClient } from './raw-client.js';

// Fills a cluster's history through its clients, as fast as the acks allow: a closed
// loop in which each publisher keeps `window` sends unacked, and every ack lets one
// more go. It runs in the bench process, before the figures it serves are measured.

export interface AckedPublishSpec {
  /** Client addresses; publisher p connects to servers[p mod length]. */
  servers: string[];
  publishers: number;
  /** Publisher p joins and sends to roomOf(p). */
  roomOf: (publisher: number) => string;
  /** Spread over the publishers, the first ones taking the remainder. */
  messages: number;
  /** Unacked sends per publisher. */
  window: number;
  /** Gives up after this long, with what was acked by then. */
  timeoutMs: number;
}

export interface AckedPublishResult {
  sent: number;
  acked: number;
  seconds: number;
  /** Error frames received, by code. */
  errorCodes: Record<string, number>;
}

/** Publishes `messages` 100-byte bench texts and resolves when all are acked (or on timeout). */
export async function publishAcked(spec: AckedPublishSpec): Promise<AckedPublishResult> {
  let acked = 0;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const onAck = () => {
    if (++acked === spec.messages) finish();
  };
  const publishers = await Promise.all(
    Array.from({ length: spec.publishers }, (_, p) => {
      const quota = Math.floor(spec.messages / spec.publishers) + (p < spec.messages % spec.publishers ? 1 : 0);
      return AckedPublisher.connect(spec.servers[p % spec.servers.length] as string, p, spec.roomOf(p), quota, onAck);
    }),
  );
  const startedAt = performance.now();
  const timer = setTimeout(finish, spec.timeoutMs);
  for (const publisher of publishers) publisher.release(spec.window);
  await finished;
  clearTimeout(timer);
  const seconds = (performance.now() - startedAt) / 1000;
  const errorCodes: Record<string, number> = {};
  let sent = 0;
  for (const publisher of publishers) {
    sent += publisher.sent;
    for (const [code, count] of publisher.errorCodes) errorCodes[code] = (errorCodes[code] ?? 0) + count;
    publisher.close();
  }
  return { sent, acked, seconds, errorCodes };
}

class AckedPublisher {
  sent = 0;
  private credit = 0;
  private isFlushPending = false;
  private client: RawClient | undefined;

  private constructor(
    private readonly publisher: number,
    private readonly room: string,
    private readonly quota: number,
  ) {}

  static async connect(
    server: string,
    publisher: number,
    room: string,
    quota: number,
    onAck: () => void,
  ): Promise<AckedPublisher> {
    const self = new AckedPublisher(publisher, room, quota);
    const client = await RawClient.connect(server, {
      onRawFrame: (type) => {
        if (type !== 'ack') return;
        onAck();
        self.release(1);
      },
    });
    self.client = client;
    await client.hello(`f${publisher}`, `fill-${process.pid}-${publisher}`);
    await client.join(room);
    return self;
  }

  get errorCodes(): Map<string, number> {
    return this.client?.errorCodes ?? new Map();
  }

  /** Lets `count` more sends go. Acks come in bursts (a group commit acks many): one write per burst. */
  release(count: number): void {
    this.credit += count;
    if (this.isFlushPending) return;
    this.isFlushPending = true;
    setImmediate(() => this.flush());
  }

  close(): void {
    this.client?.close();
  }

  private flush(): void {
    this.isFlushPending = false;
    const frames: Uint8Array[] = [];
    for (; this.credit > 0 && this.sent < this.quota; this.credit--, this.sent++) {
      const text = benchText(this.publisher, this.sent, 0);
      const clientMsgId = benchClientMsgId(this.publisher, this.sent);
      frames.push(encodeFrame({ type: 'send', room: this.room, text, clientMsgId }));
    }
    if (frames.length > 0) this.client?.write(Buffer.concat(frames));
  }
}
