import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Episode, Fault, FaultKind } from './schedule.js';

/** A message id as stores and histories write it: "room/origin/seq". */
export type IdKey = string;

/** What a run was asked to do, first in every history. */
export interface RunInfo {
  seed: number;
  layer: string;
  nodes: string[];
  clients: number;
  rooms: string[];
  durationMs: number;
  quietMs: number;
  faults: FaultKind[];
  startedAt: string;
}

/**
 * One line of the history. `t` is ms since the run started. Clients are named by nick
 * ("c7"); a message by its text ("c7 alpha #12": sender, room, the sender's count;
 * "c7 @c3 #13" for a direct message to c3), unique in the run, which is what the
 * sender's send call was given; `clientMsgId` is made inside the client library's send,
 * so it is recorded where nodes hand it back, on every delivery. A direct message is
 * in its recipient's inbox room ("@" and the recipient's clientId), as nodes store it.
 */
export type HistoryEvent = { t: number } & (
  | ({ type: 'run' } & RunInfo)
  | { type: 'schedule'; episodes: Episode[] }
  | { type: 'client'; client: string; clientId: string; home: string; inbox: string }
  | { type: 'join'; client: string; room: string }
  | {
      type: 'connect';
      client: string;
      node: string;
      server: string;
      /** After a lost connection: how long the client took from noticing the loss to being back in every room. */
      failoverMs?: number;
      lostNode?: string;
      caughtUp: number;
    }
  | { type: 'disconnect'; client: string; node: string; reason: string }
  | { type: 'send'; client: string; room: string; n: number; text: string }
  | { type: 'ack'; client: string; n: number; id: IdKey }
  | { type: 'reject'; client: string; n: number; error: string }
  | {
      type: 'recv';
      client: string;
      room: string;
      id: IdKey;
      from: string;
      fromId: string;
      clientMsgId: string;
      text: string;
    }
  | { type: 'client-error'; client: string; error: string }
  | {
      type: 'fault';
      phase: 'start' | 'heal';
      fault: Fault;
      description: string;
      /** At the start: the clients on the nodes it hits. */
      clients?: number;
    }
  | { type: 'node-start'; node: string; restart: boolean }
  | {
      type: 'node-exit';
      node: string;
      code: number | null;
      signal: string | null;
      /** What the run did to it (kill -9, SIGTERM), or null: it exited on its own. */
      cause: 'kill' | 'stop' | null;
      /** Its last lines of output, when it exited on its own. */
      lastLines?: string[];
    }
  | { type: 'phase'; phase: 'load' | 'quiet' | 'settle' | 'stop' | 'end' }
  | { type: 'note'; text: string }
);

type Unstamped<E> = E extends { t: number } ? Omit<E, 't'> : never;
export type HistoryRecord = Unstamped<HistoryEvent>;

/** Appends events to a JSON-lines file as they happen, each stamped with the run's clock. */
export class HistoryWriter {
  private readonly stream: WriteStream;
  private readonly startedAt = performance.now();
  private isClosed = false;

  constructor(readonly path: string) {
    this.stream = createWriteStream(path, { flags: 'w' });
  }

  /** ms since the run started, as stamped on events. */
  now(): number {
    return Math.round((performance.now() - this.startedAt) * 10) / 10;
  }

  /** Appends one event; events after close() (a late socket close in the teardown) are dropped. */
  record(event: HistoryRecord): void {
    if (this.isClosed) return;
    this.stream.write(`${JSON.stringify({ t: this.now(), ...event })}\n`);
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    this.stream.end();
    await once(this.stream, 'finish');
  }
}

/** Every event of a history file, in order. */
export async function readHistory(path: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY });
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber++;
    if (line.trim() === '') continue;
    try {
      events.push(JSON.parse(line) as HistoryEvent);
    } catch (err) {
      throw new Error(`${path}:${lineNumber}: not a JSON line: ${(err as Error).message}`);
    }
  }
  return events;
}
