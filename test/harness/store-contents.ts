import { LmdbStore } from '@meshchat/node';

/** What a node's LMDB store holds for one room, read from its files. */
export interface StoredRoom {
  /** origin -> highest contiguous seq, held or trimmed. */
  vector: Record<string, number>;
  /** origin -> seq up to which retention trimmed; origins never trimmed are left out. */
  floors: Record<string, number>;
  /** Every message record, aliases included, as "room/origin/seq", sorted. */
  ids: string[];
  /** The history index (what clients are served, aliases left out), oldest first. */
  history: string[];
  /** Per id, who sent it as nodes dedupe it: "clientId/clientMsgId" (an alias is the same message, so the same). */
  senders: Record<string, string>;
}

const PAGE = 1000;
const idOf = (m: { room: string; origin: string; seq: number }) => `${m.room}/${m.origin}/${m.seq}`;

/**
 * Opens the LMDB store under a stopped node's data dir and reads every room: the
 * vectors, the retention floors, every message id and the history index. LMDB allows
 * one environment per path in a process, so the node must be stopped (in-process or
 * not) before this is called; the store is closed again before it resolves.
 */
export async function readStoreContents(dataDir: string): Promise<Record<string, StoredRoom>> {
  const store = LmdbStore.open(dataDir);
  try {
    const rooms: Record<string, StoredRoom> = {};
    for (const room of store.rooms().sort()) {
      const vector = store.versionVector(room);
      const floors: Record<string, number> = {};
      const ids: string[] = [];
      const senders: Record<string, string> = {};
      for (const [origin, highest] of Object.entries(vector)) {
        const floor = store.floor(room, origin);
        if (floor > 0) floors[origin] = floor;
        if (highest <= floor) continue;
        for (const message of store.range(room, origin, floor + 1, highest - floor)) {
          ids.push(idOf(message));
          senders[idOf(message)] = `${message.from.clientId}/${message.clientMsgId}`;
        }
      }
      const history: string[] = [];
      let page = store.latest(room, { limit: PAGE });
      for (;;) {
        history.unshift(...page.messages.map(idOf));
        const oldest = page.messages[0];
        if (!page.hasMore || !oldest) break;
        page = store.latest(room, { before: oldest, limit: PAGE });
      }
      rooms[room] = { vector, floors, ids: ids.sort(), history, senders };
    }
    return rooms;
  } finally {
    await store.close();
  }
}
