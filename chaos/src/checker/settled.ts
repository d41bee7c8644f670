import { count, type GuaranteeResult } from './guarantee.js';
import { type RunModel, seconds, whereWas } from './model.js';

/**
 * Every send settled with an ack: the client's outbox carried it across every failover
 * until a node acked it. A send still pending at the end, or rejected (no client was
 * closed and every message is valid, so nothing may be), is a message the user lost.
 */
export function checkSettled(model: RunModel): GuaranteeResult {
  const violations: string[] = [];
  for (const op of model.sends.values()) {
    if (op.ack) continue;
    const client = model.clients.get(op.client);
    const where = client
      ? `; ${op.client} was ${whereWas(client, op.t)} then, ${whereWas(client, model.endT)} at the end`
      : '';
    if (op.reject) {
      violations.push(`${op.text}, sent at ${seconds(op.t)}, rejected at ${seconds(op.reject.t)}: ${op.reject.error}`);
    } else {
      violations.push(`${op.text}, sent at ${seconds(op.t)}, never acked nor rejected${where}`);
    }
  }
  return {
    name: 'settled',
    title: 'every send settled: acked, whatever happened to the node it was sent to',
    checked: `${count(model.sends.size)} sends`,
    violations,
  };
}
