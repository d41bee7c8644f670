// The checks of the failover suites (design.md guarantees 1, 2 and 3), over what load
// clients recorded and what the nodes stored. Each returns a list of problems, one
// line each, so a failure names every client and message that went wrong.
import { ChatClient, type ChatMessage, type MessageId } from '@meshchat/client';
import { waitForViews } from './cluster.js';
import type { LoadClient, SendRecord } from './load-clients.js';
import type { NodeProcess } from './processes.js';
import { readStoreContents } from './store-contents.js';
import { waitFor } from './wait.js';

export const idKey = (id: MessageId) => `${id.room}/${id.origin}/${id.seq}`;
const senderKey = (m: ChatMessage) => `${m.from.clientId}/${m.clientMsgId}`;

/** Every send of every client, by room, in each sender's send order. */
export function sendsByRoom(clients: readonly LoadClient[]): Map<string, SendRecord[]> {
  const rooms = new Map<string, SendRecord[]>();
  for (const client of clients) {
    for (const send of client.sends) {
      const sends = rooms.get(send.room) ?? [];
      sends.push(send);
      rooms.set(send.room, sends);
    }
  }
  return rooms;
}

/** Sends that did not resolve with an id: rejected, or still pending. */
export function unackedSends(clients: readonly LoadClient[]): string[] {
  return clients.flatMap((c) =>
    c.sends
      .filter((s) => s.id === undefined)
      .map((s) => `${s.text}: ${s.error ? `rejected: ${s.error.message}` : 'never settled'}`),
  );
}

/** Waits until every member of every room has shown a message for each send to that room. */
export async function waitForEveryMessage(clients: readonly LoadClient[], timeoutMs = 30_000): Promise<void> {
  const rooms = sendsByRoom(clients);
  const missing = (client: LoadClient) => {
    const shown = new Set(client.received.map((m) => m.text));
    return client.rooms.reduce((n, room) => n + (rooms.get(room) ?? []).filter((s) => !shown.has(s.text)).length, 0);
  };
  await waitFor(
    () => clients.every((c) => missing(c) === 0),
    `every client to show every message of its rooms (${clients.reduce((n, c) => n + missing(c), 0)} missing)`,
    timeoutMs,
  );
}

export interface DeliveryReport {
  problems: string[];
  /**
   * Messages a client showed under another id than the one its sender was acked with:
   * the copy a node committed and delivered before it died, while the resend was
   * accepted elsewhere (design.md guarantee 2). Every store must hold it as an alias.
   */
  otherIds: MessageId[];
}

/**
 * Each member of each room showed every message sent there exactly once (no id twice,
 * no (clientId, clientMsgId) twice, nothing that was not sent) and each sender's
 * messages in the order they were sent.
 */
export function checkDelivery(clients: readonly LoadClient[]): DeliveryReport {
  const rooms = sendsByRoom(clients);
  const byText = new Map<string, SendRecord>();
  for (const sends of rooms.values()) for (const send of sends) byText.set(send.text, send);
  // A message's place among everything its sender sent.
  const ordinals = new Map<string, number>();
  for (const client of clients) for (const [i, send] of client.sends.entries()) ordinals.set(send.text, i);
  const problems: string[] = [];
  const otherIds = new Map<string, MessageId>();
  for (const client of clients) {
    for (const room of client.rooms) {
      const where = `${client.nick} in ${room}`;
      const shown = client.received.filter((m) => m.room === room);
      for (const key of repeated(shown.map(idKey))) problems.push(`${where}: id ${key} shown twice`);
      for (const key of repeated(shown.map(senderKey))) problems.push(`${where}: (clientId, clientMsgId) ${key} twice`);
      const texts = new Set(shown.map((m) => m.text));
      for (const send of rooms.get(room) ?? [])
        if (!texts.has(send.text)) problems.push(`${where}: missing ${send.text}`);
      for (const message of shown) {
        const send = byText.get(message.text);
        if (!send || send.room !== room) problems.push(`${where}: shown ${message.text}, never sent to ${room}`);
        else if (send.id && idKey(send.id) !== idKey(message))
          otherIds.set(idKey(message), { room, origin: message.origin, seq: message.seq });
      }
      const lastBySender = new Map<string, { text: string; ordinal: number }>();
      for (const message of shown) {
        const ordinal = ordinals.get(message.text);
        if (ordinal === undefined) continue;
        const last = lastBySender.get(message.from.clientId);
        if (last && last.ordinal > ordinal) problems.push(`${where}: ${message.text} shown after ${last.text}`);
        lastBySender.set(message.from.clientId, { text: message.text, ordinal });
      }
    }
  }
  return { problems, otherIds: [...otherIds.values()] };
}

/**
 * Every message a node serves in `room` as history (aliases left out), asked through a
 * client of its own that reaches only that node.
 */
export async function historyOf(node: NodeProcess, room: string): Promise<ChatMessage[]> {
  const client = new ChatClient({
    servers: [node.addresses.clients],
    nick: `hist${Math.floor(Math.random() * 1e9)}`,
    discoverServers: false,
  });
  try {
    await client.connect();
    const messages: ChatMessage[] = [];
    let before: ChatMessage | undefined;
    for (;;) {
      const page = await client.history(room, { limit: 1000, ...(before ? { before } : {}) });
      messages.unshift(...page.messages);
      before = page.messages[0];
      if (!page.hasMore || !before) return messages;
    }
  } finally {
    await client.close();
  }
}

/**
 * Once every node reports the same vector for every room (GET /cluster): each node's
 * history holds every message sent exactly once, by (clientId, clientMsgId), and
 * nothing else. Then the nodes are stopped and their LMDB stores read: every store
 * holds the same ids, every acked id among them, and every id a client was shown in
 * place of the acked one as well. Also counts the aliases each store holds.
 */
export async function checkStores(
  nodes: readonly NodeProcess[],
  clients: readonly LoadClient[],
  otherIds: readonly MessageId[],
): Promise<{ problems: string[]; aliases: Record<string, number> }> {
  const rooms = sendsByRoom(clients);
  const names = [...rooms.keys()].sort();
  await waitForViews(
    nodes,
    (views) =>
      names.every((room) => {
        const digests = views.map((v) => v.rooms[room]?.digest);
        return digests[0] !== undefined && digests.every((d) => d === digests[0]);
      }),
    `equal vectors of ${names.join(', ')} on every node`,
    30_000,
  );
  const problems: string[] = [];
  for (const node of nodes) {
    for (const room of names) {
      const history = await historyOf(node, room);
      const counts = new Map<string, number>();
      for (const message of history) counts.set(message.text, (counts.get(message.text) ?? 0) + 1);
      for (const key of repeated(history.map(senderKey)))
        problems.push(`${node.nodeId} ${room}: ${key} in history twice`);
      for (const send of rooms.get(room) ?? []) {
        if (!counts.has(send.text)) problems.push(`${node.nodeId} ${room}: ${send.text} not in history`);
      }
      if (history.length !== (rooms.get(room) ?? []).length) {
        problems.push(`${node.nodeId} ${room}: ${history.length} messages in history, ${rooms.get(room)?.length} sent`);
      }
    }
  }
  for (const node of nodes) await node.stop();
  const stores = await Promise.all(nodes.map(async (node) => ({ node, rooms: await readStoreContents(node.dataDir) })));
  const aliases: Record<string, number> = {};
  for (const { node, rooms: stored } of stores) {
    aliases[node.nodeId] = Object.values(stored).reduce((n, room) => n + room.ids.length - room.history.length, 0);
  }
  for (const room of names) {
    const [first, ...rest] = stores;
    const ids = new Set(first?.rooms[room]?.ids ?? []);
    for (const other of rest) {
      const theirs = other.rooms[room]?.ids ?? [];
      if (theirs.length !== ids.size || theirs.some((id) => !ids.has(id))) {
        problems.push(`${room}: ${other.node.nodeId} stores other ids than ${first?.node.nodeId}`);
      }
    }
    for (const { node, rooms: stored } of stores) {
      const held = new Set(stored[room]?.ids ?? []);
      for (const send of rooms.get(room) ?? []) {
        if (send.id && !held.has(idKey(send.id))) problems.push(`${node.nodeId}: acked ${idKey(send.id)} not stored`);
      }
      for (const id of otherIds.filter((i) => i.room === room)) {
        if (!held.has(idKey(id))) problems.push(`${node.nodeId}: shown ${idKey(id)} not stored`);
      }
    }
  }
  return { problems, aliases };
}

/** The items that occur more than once. */
export function repeated(items: readonly string[]): string[] {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const item of items) {
    if (seen.has(item)) twice.add(item);
    seen.add(item);
  }
  return [...twice];
}
