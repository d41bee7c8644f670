import { readFileSync, writeFileSync } from 'node:fs';
import type { IdKey } from './history.js';

/**
 * One room as a node stored it: every id (aliases included), the history it serves
 * (aliases left out), and who sent each message as nodes dedupe it ("clientId/clientMsgId").
 */
export interface StoredRoomIds {
  ids: IdKey[];
  history: IdKey[];
  senders: Record<IdKey, string>;
}

/** What every node held when the run ended, read from its LMDB store after it stopped. */
export interface FinalStores {
  nodes: Record<string, { live: boolean; rooms: Record<string, StoredRoomIds> }>;
}

export function writeStores(path: string, stores: FinalStores): void {
  writeFileSync(path, `${JSON.stringify(stores)}\n`);
}

export function readStores(path: string): FinalStores {
  return JSON.parse(readFileSync(path, 'utf8')) as FinalStores;
}

/** The nodes that were running when the run ended, each with every id it stores (all rooms). */
export function liveIdSets(stores: FinalStores): [string, Set<IdKey>][] {
  return Object.entries(stores.nodes)
    .filter(([, node]) => node.live)
    .map(([nodeId, node]) => [nodeId, new Set(Object.values(node.rooms).flatMap((room) => room.ids))]);
}
