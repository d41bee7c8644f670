import { type FinalStores, liveIdSets } from '../stores.js';
import { count, type GuaranteeResult } from './guarantee.js';
import { type RunModel, seconds } from './model.js';

/**
 * Guarantee 1 (design.md): acked means durable. Every acked message, and every message a
 * client was shown (possibly under another node's id, the hard case of guarantee 2),
 * is in the store of every node live at the end.
 */
export function checkDurable(model: RunModel, stores: FinalStores): GuaranteeResult {
  const live = liveIdSets(stores);
  const violations: string[] = [];
  if (live.length === 0) violations.push('no node was live at the end: nothing holds the messages');
  const missingFrom = (id: string) => live.filter(([, ids]) => !ids.has(id)).map(([nodeId]) => nodeId);
  const reported = new Set<string>();
  let acked = 0;
  for (const op of model.sends.values()) {
    if (!op.ack) continue;
    acked++;
    const missing = missingFrom(op.ack.id);
    if (missing.length === 0) continue;
    reported.add(op.ack.id);
    violations.push(
      `${op.text}, acked to ${op.client} as ${op.ack.id} at ${seconds(op.ack.t)}, is missing from ${missing.join(', ')}`,
    );
  }
  const shown = new Set<string>();
  for (const client of model.clients.values()) {
    for (const delivery of client.deliveries) {
      if (shown.has(delivery.id)) continue;
      shown.add(delivery.id);
      const missing = missingFrom(delivery.id);
      if (missing.length === 0 || reported.has(delivery.id)) continue;
      violations.push(
        `${delivery.text}, shown to ${client.name} as ${delivery.id} at ${seconds(delivery.t)}, ` +
          `is missing from ${missing.join(', ')}`,
      );
    }
  }
  return {
    name: 'durable',
    title: 'acked messages durable: every acked or shown message stored on every live node',
    checked: `${count(acked)} acked and ${count(shown.size)} shown ids on ${live.length} live nodes`,
    violations,
  };
}
