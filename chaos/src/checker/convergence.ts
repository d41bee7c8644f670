import type { FinalStores } from '../stores.js';
import { count, type GuaranteeResult } from './guarantee.js';
import { type RunModel, roomLabel } from './model.js';

const EXAMPLES = 3;

/**
 * Guarantee 4 (design.md): convergence. After every fault has healed and the cluster
 * has settled, every live node stores the same ids (aliases included) in every room.
 */
export function checkConvergence(model: RunModel, stores: FinalStores): GuaranteeResult {
  const live = Object.entries(stores.nodes).filter(([, node]) => node.live);
  const rooms = [...new Set(live.flatMap(([, node]) => Object.keys(node.rooms)))].sort();
  const violations: string[] = [];
  const inboxes = rooms.filter((room) => model.inboxes.has(room)).length;
  let ids = 0;
  for (const room of rooms) {
    const [first, ...rest] = live.map(([nodeId, node]) => ({ nodeId, ids: new Set(node.rooms[room]?.ids ?? []) }));
    if (!first) continue;
    ids += first.ids.size;
    for (const other of rest) {
      const onlyFirst = [...first.ids].filter((id) => !other.ids.has(id));
      const onlyOther = [...other.ids].filter((id) => !first.ids.has(id));
      if (onlyFirst.length === 0 && onlyOther.length === 0) continue;
      const side = (nodeId: string, only: string[]) =>
        only.length === 0
          ? ''
          : `; ${only.length} only on ${nodeId} (${only.slice(0, EXAMPLES).join(', ')}${only.length > EXAMPLES ? ', ...' : ''})`;
      violations.push(
        `${roomLabel(model, room)}: ${first.nodeId} holds ${count(first.ids.size)} ids, ${other.nodeId} ${count(other.ids.size)}` +
          side(first.nodeId, onlyFirst) +
          side(other.nodeId, onlyOther),
      );
    }
  }
  return {
    name: 'convergence',
    title: 'convergence: every live node stores the same ids in every room',
    checked: `${count(ids)} ids in ${rooms.length} rooms (${inboxes} of them inboxes) on ${live.length} live nodes`,
    violations,
  };
}
