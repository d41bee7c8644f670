// Hand-made histories and final stores, for testing the checker without running anything.
import type { HistoryEvent, HistoryRecord, IdKey } from '../src/history.js';
import type { FinalStores } from '../src/stores.js';

const clientIdOf = (client: string) => `id-${client}`;
/** The room a client's direct messages are stored in. */
export const inboxOf = (client: string) => `@${clientIdOf(client)}`;

/**
 * Writes a run's history event by event, 10 ms apart. Clients are "c0", "c1", ...; a
 * message is named by the text its send gets ("c0 alpha #0"); the clientMsgId of a
 * message is derived from its text, as the client library's would be unique to it.
 */
export class HandMadeRun {
  readonly events: HistoryEvent[] = [];
  private t = 0;
  private readonly counts = new Map<string, number>();
  // text -> the sender's clientId/clientMsgId, as nodes dedupe it, and the room it went to.
  private readonly senders = new Map<string, string>();
  private readonly rooms = new Map<string, string>();

  record(event: HistoryRecord): this {
    this.t += 10;
    this.events.push({ t: this.t, ...event } as HistoryEvent);
    return this;
  }

  /** A client that connects to `node` and joins `rooms`. */
  client(client: string, node: string, rooms: string[]): this {
    this.record({ type: 'client', client, clientId: clientIdOf(client), home: node, inbox: inboxOf(client) });
    this.record({ type: 'connect', client, node, server: `${node}:1`, caughtUp: 0 });
    for (const room of rooms) this.record({ type: 'join', client, room });
    return this;
  }

  /** A send to a room; returns its text. */
  send(client: string, room: string): string {
    return this.sendTo(client, room, room);
  }

  /** A direct message to `to`, stored in its inbox; returns its text. */
  dm(client: string, to: string): string {
    return this.sendTo(client, inboxOf(to), `@${to}`);
  }

  private sendTo(client: string, room: string, shownAs: string): string {
    const n = this.counts.get(client) ?? 0;
    this.counts.set(client, n + 1);
    const text = `${client} ${shownAs} #${n}`;
    this.senders.set(text, `${clientIdOf(client)}/msg-${client}-${n}`);
    this.rooms.set(text, room);
    this.record({ type: 'send', client, room, n, text });
    return text;
  }

  ack(text: string, id: IdKey): this {
    const [client, , n] = parse(text);
    return this.record({ type: 'ack', client, n, id });
  }

  reject(text: string, error: string): this {
    const [client, , n] = parse(text);
    return this.record({ type: 'reject', client, n, error });
  }

  /** `client` shows the message `text` under `id`. */
  recv(client: string, text: string, id: IdKey): this {
    const [from] = parse(text);
    const room = this.rooms.get(text) as string;
    const [fromId, clientMsgId] = (this.senderOf(text) as string).split('/') as [string, string];
    return this.record({ type: 'recv', client, room, id, from, fromId, clientMsgId, text });
  }

  senderOf(text: string): string | undefined {
    return this.senders.get(text);
  }

  /**
   * Stores in which each of `nodes` holds exactly `messages` ([id, text]), all in the
   * history (no alias); a test then edits what it needs to.
   */
  stores(nodes: string[], messages: [IdKey, string][]): FinalStores {
    const stores: FinalStores = { nodes: {} };
    for (const node of nodes) {
      const rooms: FinalStores['nodes'][string]['rooms'] = {};
      for (const [id, text] of messages) {
        const room = id.slice(0, id.lastIndexOf('/', id.lastIndexOf('/') - 1));
        rooms[room] ??= { ids: [], history: [], senders: {} };
        rooms[room].ids.push(id);
        rooms[room].history.push(id);
        rooms[room].senders[id] = this.senderOf(text) as string;
      }
      stores.nodes[node] = { live: true, rooms };
    }
    return stores;
  }
}

function parse(text: string): [string, string, number] {
  const [client, room, count] = text.split(' ') as [string, string, string];
  return [client, room, Number(count.slice(1))];
}
