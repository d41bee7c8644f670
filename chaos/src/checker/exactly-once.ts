import type { IdKey } from '../history.js';
import type { FinalStores } from '../stores.js';
import { count, type GuaranteeResult } from './guarantee.js';
import {
  type ClientModel,
  connectionsOf,
  type Delivery,
  type RunModel,
  roomLabel,
  type SendOp,
  seconds,
  whereWas,
} from './model.js';

/**
 * Guarantee 2 (design.md): no loss, no duplicates across failover. Each client showed
 * each acked message of each of its rooms exactly once, and nothing that was not sent
 * there; one id is one message, everywhere; and every live node serves each message
 * once in a room's history (a resend accepted elsewhere is an alias, not a second
 * message). Messages are told apart as nodes dedupe them, by (clientId, clientMsgId).
 */
export function checkExactlyOnce(model: RunModel, stores: FinalStores): GuaranteeResult {
  const violations: string[] = [];
  const sendsByRoom = new Map<string, SendOp[]>();
  for (const op of model.sends.values()) sendsByRoom.set(op.room, [...(sendsByRoom.get(op.room) ?? []), op]);
  let deliveries = 0;
  for (const client of model.clients.values()) {
    deliveries += client.deliveries.length;
    for (const room of client.rooms) {
      violations.push(...checkRoom(model, client, room, sendsByRoom.get(room) ?? []));
    }
    for (const delivery of client.deliveries) {
      if (!client.rooms.includes(delivery.room)) {
        violations.push(
          `${client.name} showed ${delivery.text} (${delivery.id}) of ${roomLabel(model, delivery.room)}, not its room`,
        );
      }
    }
  }
  const stored = checkStoredMessages(model, stores);
  violations.push(...stored.violations);
  return {
    name: 'exactly-once',
    title: 'exactly once: each client showed each message of its rooms once, each node serves it once',
    checked: `${count(deliveries)} deliveries to ${model.clients.size} clients, room histories on ${stored.liveNodes} live nodes`,
    violations,
  };
}

function checkRoom(model: RunModel, client: ClientModel, room: string, sends: readonly SendOp[]): string[] {
  const violations: string[] = [];
  const byText = new Map<string, Delivery[]>();
  for (const delivery of client.deliveries) {
    if (delivery.room !== room) continue;
    byText.set(delivery.text, [...(byText.get(delivery.text) ?? []), delivery]);
  }
  const where = `${client.name} in ${roomLabel(model, room)}`;
  for (const op of sends) {
    const shown = byText.get(op.text) ?? [];
    if (shown.length === 0 && op.ack) {
      violations.push(
        `${where} never showed ${op.text} (acked to ${op.client} as ${op.ack.id} at ${seconds(op.ack.t)}); ` +
          `${client.name} was on ${connectionsOf(client)}`,
      );
    }
    if (shown.length > 1) {
      const times = shown.map((d) => `as ${d.id} at ${seconds(d.t)} ${whereWas(client, d.t)}`).join(', then ');
      violations.push(`${where} showed ${op.text} ${shown.length} times: ${times}`);
    }
  }
  for (const [text, shown] of byText) {
    const op = model.sends.get(text);
    const first = shown[0] as Delivery;
    if (!op || op.room !== room) {
      violations.push(`${where} showed "${text}" (${first.id} at ${seconds(first.t)}), never sent there`);
    }
  }
  return violations;
}

/** One id is one message on every node and client; each node's history holds each message once. */
function checkStoredMessages(model: RunModel, stores: FinalStores): { violations: string[]; liveNodes: number } {
  const violations: string[] = [];
  // Per id, the message it stands for ("clientId/clientMsgId") and where that was seen first.
  const senderOf = new Map<IdKey, { sender: string; where: string }>();
  const noteId = (id: IdKey, sender: string, where: string) => {
    const known = senderOf.get(id);
    if (!known) senderOf.set(id, { sender, where });
    else if (known.sender !== sender) {
      violations.push(`id ${id} stands for two messages: ${known.sender} (${known.where}) and ${sender} (${where})`);
    }
  };
  // What each message is, as the run's clients know it.
  const textOf = new Map<string, string>();
  for (const client of model.clients.values()) {
    for (const delivery of client.deliveries) {
      const sender = `${delivery.fromId}/${delivery.clientMsgId}`;
      textOf.set(sender, delivery.text);
      noteId(delivery.id, sender, `shown to ${client.name} as ${delivery.text}`);
    }
  }
  // And what its sender was acked with, to name a message nobody showed.
  const ackedText = new Map<IdKey, string>();
  for (const op of model.sends.values()) if (op.ack) ackedText.set(op.ack.id, op.text);
  const live = Object.entries(stores.nodes).filter(([, node]) => node.live);
  for (const [nodeId, node] of live) {
    for (const [room, stored] of Object.entries(node.rooms)) {
      for (const [id, sender] of Object.entries(stored.senders)) noteId(id, sender, `stored on ${nodeId}`);
      const served = new Map<string, IdKey>();
      const history = `the history of ${roomLabel(model, room)}`;
      for (const id of stored.history) {
        const sender = stored.senders[id] ?? '';
        const text = textOf.get(sender);
        const what = text ?? ackedText.get(id) ?? `${id} (${sender || 'no record'})`;
        if (served.has(sender)) {
          violations.push(`${nodeId} serves ${what} twice in ${history}: as ${served.get(sender)} and as ${id}`);
        } else {
          served.set(sender, id);
        }
        if (text === undefined) violations.push(`${nodeId} serves ${what} in ${history}, a message no client showed`);
      }
    }
  }
  return { violations, liveNodes: live.length };
}
