import type { HistoryEvent, IdKey, RunInfo } from '../history.js';
import type { Fault } from '../schedule.js';

/** A send and how it settled. */
export interface SendOp {
  client: string;
  room: string;
  /** The sender's count of its sends, over all its rooms: its send order. */
  n: number;
  text: string;
  t: number;
  ack?: { id: IdKey; t: number };
  reject?: { error: string; t: number };
}

/** A message a client showed. */
export interface Delivery {
  client: string;
  room: string;
  id: IdKey;
  from: string;
  fromId: string;
  clientMsgId: string;
  text: string;
  t: number;
}

/** A stretch of time a client was on a node; `to` undefined while it still was at the end. */
export interface Connection {
  node: string;
  from: number;
  to?: number;
}

export interface ClientModel {
  name: string;
  clientId: string;
  home: string;
  /** Its rooms, its inbox (direct messages to it) included. */
  rooms: string[];
  connections: Connection[];
  /** In the order shown. */
  deliveries: Delivery[];
  errors: string[];
}

export interface FaultRecord {
  fault: Fault;
  description: string;
  start: number;
  heal?: number;
}

export interface NodeExit {
  node: string;
  t: number;
  code: number | null;
  signal: string | null;
  cause: 'kill' | 'stop' | null;
  lastLines: string[];
}

/** A history indexed for the checks. */
export interface RunModel {
  run: RunInfo | undefined;
  clients: Map<string, ClientModel>;
  /** By text, unique in a run. */
  sends: Map<string, SendOp>;
  /** Each client's sends in the order it made them. */
  sendsByClient: Map<string, SendOp[]>;
  /** Reconnects after a lost connection, with the time the client took (failoverMs). */
  failovers: { client: string; node: string; lostNode?: string; ms: number; t: number }[];
  faults: FaultRecord[];
  nodeExits: NodeExit[];
  /** Inbox room -> the client whose direct messages it holds. */
  inboxes: Map<string, string>;
  /** Events of each type. */
  counts: Record<string, number>;
  endT: number;
}

export function buildModel(events: readonly HistoryEvent[]): RunModel {
  const model: RunModel = {
    run: undefined,
    clients: new Map(),
    sends: new Map(),
    sendsByClient: new Map(),
    failovers: [],
    faults: [],
    nodeExits: [],
    inboxes: new Map(),
    counts: {},
    endT: 0,
  };
  const client = (name: string): ClientModel => {
    let found = model.clients.get(name);
    if (!found) {
      found = { name, clientId: '', home: '', rooms: [], connections: [], deliveries: [], errors: [] };
      model.clients.set(name, found);
    }
    return found;
  };
  const sendOf = (name: string, n: number) => model.sendsByClient.get(name)?.[n];
  for (const event of events) {
    model.counts[event.type] = (model.counts[event.type] ?? 0) + 1;
    model.endT = Math.max(model.endT, event.t);
    switch (event.type) {
      case 'run': {
        const { type: _, t: _t, ...run } = event;
        model.run = run;
        break;
      }
      case 'client': {
        const found = Object.assign(client(event.client), { clientId: event.clientId, home: event.home });
        if (!found.rooms.includes(event.inbox)) found.rooms.push(event.inbox);
        model.inboxes.set(event.inbox, event.client);
        break;
      }
      case 'join':
        if (!client(event.client).rooms.includes(event.room)) client(event.client).rooms.push(event.room);
        break;
      case 'connect':
        client(event.client).connections.push({ node: event.node, from: event.t });
        if (event.failoverMs !== undefined) {
          model.failovers.push({
            client: event.client,
            node: event.node,
            ...(event.lostNode === undefined ? {} : { lostNode: event.lostNode }),
            ms: event.failoverMs,
            t: event.t,
          });
        }
        break;
      case 'disconnect': {
        const open = lastWhere(client(event.client).connections, (c) => c.to === undefined);
        if (open) open.to = event.t;
        break;
      }
      case 'send': {
        const op: SendOp = { client: event.client, room: event.room, n: event.n, text: event.text, t: event.t };
        model.sends.set(event.text, op);
        const list = model.sendsByClient.get(event.client) ?? [];
        list[event.n] = op;
        model.sendsByClient.set(event.client, list);
        break;
      }
      case 'ack': {
        const op = sendOf(event.client, event.n);
        if (op) op.ack = { id: event.id, t: event.t };
        break;
      }
      case 'reject': {
        const op = sendOf(event.client, event.n);
        if (op) op.reject = { error: event.error, t: event.t };
        break;
      }
      case 'recv': {
        const { type: _, ...delivery } = event;
        client(event.client).deliveries.push(delivery);
        break;
      }
      case 'client-error':
        client(event.client).errors.push(event.error);
        break;
      case 'fault':
        if (event.phase === 'start') {
          model.faults.push({ fault: event.fault, description: event.description, start: event.t });
        } else {
          const open = lastWhere(model.faults, (f) => f.description === event.description && f.heal === undefined);
          if (open) open.heal = event.t;
        }
        break;
      case 'node-exit':
        model.nodeExits.push({
          node: event.node,
          t: event.t,
          code: event.code,
          signal: event.signal,
          cause: event.cause,
          lastLines: event.lastLines ?? [],
        });
        break;
      default:
        break;
    }
  }
  return model;
}

/** A room as evidence names it: an inbox as "c7's inbox", not by its clientId. */
export function roomLabel(model: RunModel, room: string): string {
  const owner = model.inboxes.get(room);
  return owner === undefined ? room : `${owner}'s inbox`;
}

/** Seconds, as evidence prints times: "12.3 s". */
export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Where a client was at time `t`, e.g. "on n2 since 10.2 s" or "between nodes (left n1 at 12.9 s)". */
export function whereWas(client: ClientModel, t: number): string {
  const current = lastWhere(client.connections, (c) => c.from <= t);
  if (!current) return 'not yet connected';
  if (current.to === undefined || current.to >= t) return `on ${current.node} since ${seconds(current.from)}`;
  return `between nodes (left ${current.node} at ${seconds(current.to)})`;
}

/** The client's connections, e.g. "n1 (0.1-12.9 s), n3 (13.4 s-end)". */
export function connectionsOf(client: ClientModel): string {
  return client.connections
    .map(
      (c) =>
        `${c.node} (${c.to === undefined ? `${seconds(c.from)}-end` : `${(c.from / 1000).toFixed(1)}-${seconds(c.to)}`})`,
    )
    .join(', ');
}

function lastWhere<T>(items: readonly T[], holds: (item: T) => boolean): T | undefined {
  for (let i = items.length - 1; i >= 0; i--) if (holds(items[i] as T)) return items[i];
  return undefined;
}
