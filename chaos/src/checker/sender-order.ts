import { count, type GuaranteeResult } from './guarantee.js';
import { type Delivery, type RunModel, roomLabel, seconds } from './model.js';

/**
 * Guarantee 3 (design.md): per-sender order. In every room, every client showed each
 * sender's messages in the order the sender sent them.
 */
export function checkSenderOrder(model: RunModel): GuaranteeResult {
  const violations: string[] = [];
  let pairs = 0;
  for (const client of model.clients.values()) {
    for (const room of client.rooms) {
      // Per sender, the latest (highest) of its messages shown so far.
      const latest = new Map<string, { n: number; delivery: Delivery }>();
      for (const delivery of client.deliveries) {
        if (delivery.room !== room) continue;
        const op = model.sends.get(delivery.text);
        if (!op) continue;
        const last = latest.get(op.client);
        if (!last) pairs++;
        if (last && op.n < last.n) {
          const sentAt = model.sends.get(last.delivery.text)?.t ?? 0;
          violations.push(
            `${client.name} in ${roomLabel(model, room)} showed ${delivery.text} (${delivery.id}) at ${seconds(delivery.t)} ` +
              `after ${last.delivery.text} (${last.delivery.id}) at ${seconds(last.delivery.t)}; ` +
              `${op.client} sent them at ${seconds(op.t)} and ${seconds(sentAt)}`,
          );
        }
        if (!last || op.n > last.n) latest.set(op.client, { n: op.n, delivery });
      }
    }
  }
  return {
    name: 'sender-order',
    title: "per-sender order: every client showed each sender's messages in the order sent",
    checked: `${count(pairs)} (receiver, room, sender) streams`,
    violations,
  };
}
