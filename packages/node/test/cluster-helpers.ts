// Chat-level helpers for the cluster suites: raw watchers that record every frame a
// node sends (a ChatClient would hide a duplicate), senders, and the checks of
// exactly-once, per-sender order and convergence.
import type { ChatClient } from '@meshchat/client';
import type { ChatMessage, MessageId, ServerFrameOf } from '@meshchat/protocol';
import { expect } from 'vitest';
import { repeated } from '../../../test/harness/delivery-checks.js';
import {
  type AnyNode,
  type ClusterView,
  clientAddressOf,
  connectClient,
  onCleanup,
  RawConnection,
  type TestClient,
  waitFor,
  waitForViews,
} from '../../../test/harness/index.js';
import { rawJoin } from './helpers.js';

/** Fast failure detection for tests: a hung node is dead after about a second. */
export const FAST_HEARTBEAT = { heartbeatMs: 100, suspectAfterMs: 400, deadAfterMs: 1000 };

/** Config for every cluster node of these suites: fast timings, frequent anti-entropy. */
export const CLUSTER_CONFIG = {
  heartbeat: FAST_HEARTBEAT,
  antiEntropyMs: 300,
} as const;

/** A message a test sent, with the id the node acked. */
export interface Sent {
  sender: string;
  text: string;
  id: MessageId;
}

/**
 * A bare connection in one room that records every message and presence frame the
 * node sends it, duplicates included. It pings, so the node never drops it as idle.
 */
export class RoomWatcher {
  private constructor(
    readonly raw: RawConnection,
    readonly room: string,
    readonly nodeId: string,
  ) {}

  static async open(node: AnyNode, nick: string, room: string): Promise<RoomWatcher> {
    const raw = await RawConnection.open(clientAddressOf(node));
    await raw.hello(nick);
    await rawJoin(raw, room);
    let nonce = 0;
    const pinger = setInterval(() => raw.sendFrame({ type: 'ping', nonce: ++nonce }), 1000);
    onCleanup(() => clearInterval(pinger));
    return new RoomWatcher(raw, room, node.nodeId);
  }

  get messages(): ChatMessage[] {
    return this.raw.frames
      .filter((f): f is ServerFrameOf<'message'> => f.type === 'message' && f.room === this.room)
      .map(({ type: _, ...message }) => message);
  }

  get presence(): ServerFrameOf<'presence'>[] {
    return this.raw.frames.filter((f): f is ServerFrameOf<'presence'> => f.type === 'presence');
  }

  hasPresence(event: 'joined' | 'left', nick: string, nodeId: string): boolean {
    return this.presence.some(
      (p) => p.room === this.room && p.event === event && p.member.nick === nick && p.member.nodeId === nodeId,
    );
  }
}

/** A recording ChatClient in `room` on `node`. */
export async function joinedClient(node: AnyNode, nick: string, room: string): Promise<TestClient> {
  const client = await connectClient(clientAddressOf(node), nick);
  await client.client.join(room);
  return client;
}

/** Sends `count` messages back to back (pipelined, not one ack at a time) and returns them once acked. */
export async function sendBurst(client: ChatClient, room: string, count: number, label: string): Promise<Sent[]> {
  const texts = Array.from({ length: count }, (_, i) => `${label} ${client.nick} #${i}`);
  const acks = await Promise.all(texts.map((text) => client.send(room, text)));
  return texts.map((text, i) => ({ sender: client.clientId, text, id: (acks[i] as { id: MessageId }).id }));
}

/**
 * Messages flowing from several clients at once while a test injects faults: each
 * sender sends its next message every `everyMs` once the previous one is acked.
 * stop() ends the flow and returns everything sent, in send order per sender.
 */
export class Traffic {
  private readonly sent: Sent[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly failures: unknown[] = [];

  constructor(senders: readonly ChatClient[], room: string, everyMs = 25) {
    for (const client of senders) {
      let n = 0;
      let isBusy = false;
      const timer = setInterval(() => {
        if (isBusy) return;
        isBusy = true;
        const text = `flow ${client.nick} #${n++}`;
        const sending = client.send(room, text).then(
          ({ id }) => {
            this.sent.push({ sender: client.clientId, text, id });
          },
          (err: unknown) => {
            this.failures.push(err);
          },
        );
        this.inFlight.add(sending);
        sending.finally(() => {
          this.inFlight.delete(sending);
          isBusy = false;
        });
      }, everyMs);
      this.timers.push(timer);
    }
    onCleanup(() => this.halt());
  }

  /** Acked messages so far. */
  get acked(): readonly Sent[] {
    return this.sent;
  }

  /** Waits until `count` more messages have been acked, so a fault is known to hit a flow. */
  async waitForMore(count: number, what: string): Promise<void> {
    const target = this.sent.length + count;
    await waitFor(() => this.sent.length >= target, `${count} more acked messages ${what}`);
  }

  async stop(): Promise<Sent[]> {
    this.halt();
    await Promise.all([...this.inFlight]);
    expect(this.failures, 'every send of the flow was acked').toEqual([]);
    return [...this.sent];
  }

  private halt(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers.length = 0;
  }
}

export const idKey = (id: MessageId) => `${id.room}/${id.origin}/${id.seq}`;

/** Waits until every watcher has received every one of `sent`. */
export async function waitForDelivery(watchers: readonly RoomWatcher[], sent: readonly Sent[]): Promise<void> {
  const wanted = sent.map((s) => idKey(s.id));
  for (const watcher of watchers) {
    await waitFor(() => {
      const got = new Set(watcher.messages.map(idKey));
      return wanted.every((k) => got.has(k));
    }, `a watcher on ${watcher.nodeId} to receive all ${wanted.length} messages`);
  }
}

/**
 * What a watcher received is exactly `sent`: every message once (no id twice, no
 * clientMsgId twice), nothing else, and each sender's messages in the order sent.
 */
export function expectExactlyOnceInSenderOrder(watcher: RoomWatcher, sent: readonly Sent[]): void {
  const received = watcher.messages;
  const where = `watcher on ${watcher.nodeId}`;
  const keys = received.map(idKey);
  expect(repeated(keys), `${where}: ids delivered twice`).toEqual([]);
  expect(repeated(received.map((m) => `${m.from.clientId}/${m.clientMsgId}`)), `${where}: resends`).toEqual([]);
  expect([...keys].sort(), `${where}: the set of messages`).toEqual(sent.map((s) => idKey(s.id)).sort());
  for (const sender of new Set(sent.map((s) => s.sender))) {
    const order = received.filter((m) => m.from.clientId === sender).map((m) => m.text);
    const expected = sent.filter((s) => s.sender === sender).map((s) => s.text);
    expect(order, `${where}: order of ${sender}'s messages`).toEqual(expected);
  }
  for (const message of received) {
    const original = sent.find((s) => idKey(s.id) === idKey(message));
    expect(message.text, `${where}: text of ${idKey(message)}`).toBe(original?.text);
  }
}

/** Every message a node holds for a room (aliases aside), asked of the node with history requests. */
export async function storedMessages(node: AnyNode, room: string): Promise<ChatMessage[]> {
  const client = await connectClient(clientAddressOf(node), `hist${Math.floor(Math.random() * 1e9)}`);
  const messages: ChatMessage[] = [];
  let before: ChatMessage | undefined;
  for (;;) {
    const page = await client.client.history(room, { limit: 1000, ...(before === undefined ? {} : { before }) });
    messages.unshift(...page.messages);
    if (!page.hasMore || page.messages.length === 0) break;
    before = page.messages[0] as ChatMessage;
  }
  await client.client.close();
  return messages;
}

/** The ids of storedMessages, sorted. */
export async function storedIds(node: AnyNode, room: string): Promise<string[]> {
  return (await storedMessages(node, room)).map(idKey).sort();
}

/** True when every view holds `room` with one and the same digest. */
export function vectorsAgree(views: readonly ClusterView[], room: string): boolean {
  const digests = views.map((v) => v.rooms[room]?.digest);
  return digests[0] !== undefined && digests.every((d) => d === digests[0]);
}

/**
 * Waits until every node reports one and the same vector for `room` on /cluster, then
 * checks that each holds exactly the messages of `sent`, by id.
 */
export async function expectSameRoomEverywhere(
  nodes: readonly AnyNode[],
  room: string,
  sent: readonly Sent[],
): Promise<void> {
  const views = await waitForViews(nodes, (v) => vectorsAgree(v, room), `equal vectors of ${room} on every node`);
  const vectors = views.map((v) => v.rooms[room]?.vector);
  expect(vectors, `vectors of ${room} on /cluster`).toEqual(vectors.map(() => vectors[0]));
  const expected = sent.map((s) => idKey(s.id)).sort();
  for (const node of nodes) expect(await storedIds(node, room), `ids stored on ${node.nodeId}`).toEqual(expected);
}
