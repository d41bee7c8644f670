import {
  ChatClient,
  type ChatMessage,
  type ConnectedInfo,
  type DisconnectedInfo,
  type MessageId,
  type NodeChatClientOptions,
  type ReconnectingInfo,
  tcpTransport,
} from '@meshchat/client';
import { onCleanup } from './cleanup.js';
import { buildInSeedOrder } from './seed-order.js';
import { waitFor } from './wait.js';

/** A message a load client sent: set `id` once acked, `error` if the send was rejected. */
export interface SendRecord {
  room: string;
  /** Unique in the whole test: "<nick> <room> #<n>". */
  text: string;
  id?: MessageId;
  error?: Error;
}

export interface Timed<T> {
  /** performance.now() when it happened. */
  at: number;
  info: T;
}

/**
 * A ChatClient for failover tests that records everything: every message shown, every
 * send and how it settled, every connection lost and regained, and every connection
 * attempt (the transport's open, so attempt times are when the client really dialled).
 * Closed after the test.
 */
export class LoadClient {
  readonly received: ChatMessage[] = [];
  readonly sends: SendRecord[] = [];
  readonly rooms: string[] = [];
  readonly reconnecting: Timed<ReconnectingInfo>[] = [];
  readonly disconnected: Timed<DisconnectedInfo>[] = [];
  readonly connected: Timed<ConnectedInfo>[] = [];
  readonly errors: Error[] = [];
  /** The node this client is back in every room on, undefined while it is away. */
  resumedOn: string | undefined;
  private sent = 0;

  private constructor(
    readonly client: ChatClient,
    /** Every connection attempt, the first included, with the server dialled. */
    readonly dials: readonly Timed<string>[],
  ) {
    client.on('message', (m) => this.received.push(m));
    client.on('error', (e) => this.errors.push(e));
    client.on('reconnecting', (info) => this.reconnecting.push({ at: performance.now(), info }));
    client.on('disconnected', (info) => {
      this.resumedOn = undefined;
      this.disconnected.push({ at: performance.now(), info });
    });
    client.on('connected', (info) => {
      this.resumedOn = info.nodeId;
      this.connected.push({ at: performance.now(), info });
    });
  }

  /**
   * Connects a client that tries `servers` in the order given (no shuffle), so a test
   * decides where it starts and where it fails over to. Resolves once it is welcomed.
   */
  static async open(
    nick: string,
    servers: readonly string[],
    options: Omit<Partial<NodeChatClientOptions>, 'servers' | 'nick' | 'transport' | 'random'> = {},
  ): Promise<LoadClient> {
    const dials: Timed<string>[] = [];
    const client = buildInSeedOrder(
      (random) =>
        new ChatClient({
          ...options,
          servers: [...servers],
          nick,
          random,
          transport: {
            open: (server, handlers) => {
              dials.push({ at: performance.now(), info: server });
              return tcpTransport.open(server, handlers);
            },
          },
        }),
    );
    const order = client.knownServers.slice(0, servers.length);
    if (order.join() !== servers.join()) {
      await client.close();
      throw new Error(`${nick}: the client reordered its seeds (${order.join(', ')}); the harness cannot place it`);
    }
    const load = new LoadClient(client, dials);
    onCleanup(() => client.close());
    await client.connect();
    return load;
  }

  get nick(): string {
    return this.client.nick;
  }

  get clientId(): string {
    return this.client.clientId;
  }

  async join(room: string): Promise<void> {
    await this.client.join(room);
    this.rooms.push(room);
  }

  /** Sends the next message to `room` without waiting for anything; the record settles on the ack. */
  send(room: string): SendRecord {
    const record: SendRecord = { room, text: `${this.nick} ${room} #${this.sent++}` };
    this.sends.push(record);
    this.client.send(room, record.text).then(
      ({ id }) => {
        record.id = id;
      },
      (error: Error) => {
        record.error = error;
      },
    );
    return record;
  }

  get unsettledCount(): number {
    return this.sends.filter((s) => s.id === undefined && s.error === undefined).length;
  }
}

export interface SendLoadOptions {
  /** Each client sends one message every `everyMs`, whether its earlier ones are acked or not. */
  everyMs: number;
  /** Hard bound on the messages per client, whatever happens to the test. */
  maxPerClient: number;
}

/**
 * Every client sends continuously, each on its own timer (started at a random offset so
 * the clients do not send in lockstep), to its rooms in turn, never waiting for an ack.
 * Bounded in count (maxPerClient) and stopped by stop().
 */
export class SendLoad {
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly clients: readonly LoadClient[],
    options: SendLoadOptions,
  ) {
    for (const load of clients) {
      const tick = () => {
        if (load.sends.length >= options.maxPerClient) return this.halt();
        load.send(load.rooms[load.sends.length % load.rooms.length] as string);
      };
      const start = setTimeout(
        () => {
          this.timers.delete(start);
          const every = setInterval(tick, options.everyMs);
          this.timers.add(every);
        },
        Math.floor(Math.random() * options.everyMs),
      );
      this.timers.add(start);
    }
    onCleanup(() => this.halt());
  }

  get ackedCount(): number {
    return this.clients.reduce((n, c) => n + c.sends.filter((s) => s.id !== undefined).length, 0);
  }

  get sentCount(): number {
    return this.clients.reduce((n, c) => n + c.sends.length, 0);
  }

  /** Waits until `count` more messages are acked: the load is flowing (again). */
  async waitForMoreAcks(count: number, what: string, timeoutMs = 15_000): Promise<void> {
    const target = this.ackedCount + count;
    await waitFor(() => this.ackedCount >= target, `${count} more acked messages ${what}`, timeoutMs);
  }

  /** Stops sending and waits until every send so far has settled (acked or rejected). */
  async stop(timeoutMs = 30_000): Promise<void> {
    this.halt();
    await waitFor(
      () => this.clients.every((c) => c.unsettledCount === 0),
      `every send to settle (${this.clients.reduce((n, c) => n + c.unsettledCount, 0)} unsettled)`,
      timeoutMs,
    );
  }

  private halt(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
