import { faultLabel } from '../schedule.js';
import { type FinalStores, liveIdSets } from '../stores.js';
import type { RunModel } from './model.js';

export interface Figures {
  durationS: number;
  operations: {
    sends: number;
    acks: number;
    rejects: number;
    deliveries: number;
    connects: number;
    disconnects: number;
  };
  /** Faults injected, by kind (partitions and slow links by variant), sorted by name. */
  faults: [string, number][];
  /** Reconnects after a lost connection: how long from noticing the loss to being back in every room. */
  failovers: { count: number; p50Ms?: number; p99Ms?: number; maxMs?: number };
  /** Acked messages that some member of the room never showed, or some live node does not store. */
  lost: number;
  /** Messages shown again to a client that had shown them already. */
  duplicates: number;
  /** Messages a client showed under another id than the one its sender was acked with (guarantee 2's hard case). */
  shownUnderOtherId: number;
  /** Per live node, the ids it stores as aliases: copies of a message it holds under another id. */
  aliasesStored: [string, number][];
}

export function computeFigures(model: RunModel, stores: FinalStores): Figures {
  const deliveries = [...model.clients.values()].reduce((n, c) => n + c.deliveries.length, 0);
  const faults = new Map<string, number>();
  for (const record of model.faults)
    faults.set(faultLabel(record.fault), (faults.get(faultLabel(record.fault)) ?? 0) + 1);
  const times = model.failovers.map((f) => f.ms).sort((a, b) => a - b);
  return {
    durationS: model.endT / 1000,
    operations: {
      sends: model.counts.send ?? 0,
      acks: model.counts.ack ?? 0,
      rejects: model.counts.reject ?? 0,
      deliveries,
      connects: model.counts.connect ?? 0,
      disconnects: model.counts.disconnect ?? 0,
    },
    faults: [...faults.entries()].sort(([a], [b]) => a.localeCompare(b)),
    failovers:
      times.length === 0
        ? { count: 0 }
        : {
            count: times.length,
            p50Ms: percentile(times, 0.5),
            p99Ms: percentile(times, 0.99),
            maxMs: times[times.length - 1] as number,
          },
    ...lossAndDuplicates(model, stores),
    aliasesStored: Object.entries(stores.nodes)
      .filter(([, node]) => node.live)
      .map(([nodeId, node]) => [
        nodeId,
        Object.values(node.rooms).reduce((n, room) => n + room.ids.length - room.history.length, 0),
      ]),
  };
}

/** Nearest-rank percentile of sorted samples. */
export function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] as number;
}

function lossAndDuplicates(model: RunModel, stores: FinalStores) {
  const live = liveIdSets(stores);
  const shownBy = new Map<string, Map<string, number>>();
  let duplicates = 0;
  let shownUnderOtherId = 0;
  for (const client of model.clients.values()) {
    const counts = new Map<string, number>();
    for (const delivery of client.deliveries) {
      const seen = counts.get(delivery.text) ?? 0;
      if (seen > 0) duplicates++;
      counts.set(delivery.text, seen + 1);
      const ack = model.sends.get(delivery.text)?.ack;
      if (ack && ack.id !== delivery.id) shownUnderOtherId++;
    }
    shownBy.set(client.name, counts);
  }
  let lost = 0;
  for (const op of model.sends.values()) {
    if (!op.ack) continue;
    const { id } = op.ack;
    const isMissingAtAClient = [...model.clients.values()].some(
      (c) => c.rooms.includes(op.room) && !shownBy.get(c.name)?.has(op.text),
    );
    if (isMissingAtAClient || live.some(([, ids]) => !ids.has(id))) lost++;
  }
  return { lost, duplicates, shownUnderOtherId };
}
