import { ChatClient, type MessageId } from '@meshchat/client';
import { CLIENT_OPTIONS } from './constants.js';
import { buildInSeedOrder } from './harness.js';
import type { HistoryWriter } from './history.js';

/**
 * A chat client of the run that writes everything it does and sees to the history:
 * connects and disconnects (failovers with their duration), joins, sends (to rooms and
 * direct) and how each settled, every message shown. It keeps only counts and the texts
 * it has shown, for the settle phase to poll.
 */
export class ChaosClient {
  readonly rooms: string[] = [];
  /** The room its direct messages are stored in, as nodes name it. */
  readonly inbox: string;
  private sent = 0;
  private unsettled = 0;
  // Per room, the texts shown: sends are unique texts, so its size counts distinct messages.
  private readonly shown = new Map<string, Set<string>>();

  private constructor(
    readonly name: string,
    private readonly client: ChatClient,
    private readonly history: HistoryWriter,
  ) {
    this.inbox = `@${client.clientId}`;
    this.shown.set(this.inbox, new Set());
    client.on('connected', (info) => {
      history.record({
        type: 'connect',
        client: name,
        node: info.nodeId,
        server: info.server,
        caughtUp: info.caughtUp,
        ...(info.failoverMs === undefined ? {} : { failoverMs: info.failoverMs }),
        ...(info.lost === undefined ? {} : { lostNode: info.lost.nodeId }),
      });
    });
    client.on('disconnected', (info) => {
      history.record({ type: 'disconnect', client: name, node: info.nodeId, reason: info.reason });
    });
    client.on('message', (m) => {
      this.shown.get(m.room)?.add(m.text);
      history.record({
        type: 'recv',
        client: name,
        room: m.room,
        id: `${m.room}/${m.origin}/${m.seq}`,
        from: m.from.nick,
        fromId: m.from.clientId,
        clientMsgId: m.clientMsgId,
        text: m.text,
      });
    });
    client.on('direct', (d) => {
      this.shown.get(this.inbox)?.add(d.text);
      history.record({
        type: 'recv',
        client: name,
        room: d.id.room,
        id: `${d.id.room}/${d.id.origin}/${d.id.seq}`,
        from: d.from.nick,
        fromId: d.from.clientId,
        clientMsgId: d.clientMsgId,
        text: d.text,
      });
    });
    client.on('error', (error) => history.record({ type: 'client-error', client: name, error: error.message }));
  }

  /**
   * A client that tries `seeds` in the order given, the first being its home node, and
   * learns no other address (in the netns layer the addresses nodes advertise are on the
   * mesh, which this process cannot reach). connect() it next.
   */
  static create(name: string, seeds: readonly string[], home: string, history: HistoryWriter): ChaosClient {
    const client = buildInSeedOrder(
      (random) =>
        new ChatClient({ ...CLIENT_OPTIONS, servers: [...seeds], nick: name, random, discoverServers: false }),
    );
    if (client.knownServers.join() !== seeds.join()) {
      throw new Error(`${name}: the client reordered its seeds (${client.knownServers.join(', ')})`);
    }
    history.record({ type: 'client', client: name, clientId: client.clientId, home, inbox: `@${client.clientId}` });
    return new ChaosClient(name, client, history);
  }

  /** Resolves once a node has welcomed it. */
  async connect(): Promise<void> {
    await this.client.connect();
  }

  async join(room: string): Promise<void> {
    this.shown.set(room, new Set());
    await this.client.join(room);
    this.rooms.push(room);
    this.history.record({ type: 'join', client: this.name, room });
  }

  /**
   * Sends the next message to `room` without waiting; the history gets its ack or
   * rejection when it comes, and `onAck` is told of an ack.
   */
  send(room: string, onAck: () => void): void {
    const n = this.sent++;
    const text = `${this.name} ${room} #${n}`;
    this.history.record({ type: 'send', client: this.name, room, n, text });
    this.settle(n, this.client.send(room, text), onAck);
  }

  /** Sends the next message to `to` as a direct message, stored in its inbox. */
  dm(to: ChaosClient, onAck: () => void): void {
    const n = this.sent++;
    const text = `${this.name} @${to.name} #${n}`;
    this.history.record({ type: 'send', client: this.name, room: to.inbox, n, text });
    this.settle(n, this.client.dm(to.name, text), onAck);
  }

  private settle(n: number, acked: Promise<{ id: MessageId }>, onAck: () => void): void {
    this.unsettled++;
    acked.then(
      ({ id }) => {
        this.unsettled--;
        this.history.record({ type: 'ack', client: this.name, n, id: `${id.room}/${id.origin}/${id.seq}` });
        onAck();
      },
      (error: Error) => {
        this.unsettled--;
        this.history.record({ type: 'reject', client: this.name, n, error: error.message });
      },
    );
  }

  /** The node it is on, undefined while it is between nodes. */
  get nodeId(): string | undefined {
    return this.client.nodeId;
  }

  get sentCount(): number {
    return this.sent;
  }

  get unsettledCount(): number {
    return this.unsettled;
  }

  /** Distinct messages shown in `room`. */
  shownCount(room: string): number {
    return this.shown.get(room)?.size ?? 0;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
