import type { PresenceVersion } from '@meshchat/protocol';
import { describe, expect, it } from 'vitest';
import { ClusterPresence, type PresenceDelta, type PresenceSnapshot } from '../src/chat/cluster-presence.js';

/** A ClusterPresence for node n1 on a hand-driven clock, recording what it broadcasts. */
function presence(graceMs = 5000) {
  let now = 1000;
  const broadcast: PresenceDelta[] = [];
  const cluster = new ClusterPresence({
    nodeId: 'n1',
    now: () => now,
    graceMs,
    broadcast: (delta) => broadcast.push(delta),
    isDead: () => false,
    onRemoteChange: () => {},
    local: () => ({ sessions: [{ clientId: 'c-alice', nick: 'alice', rooms: ['general'] }], departed: [] }),
  });
  return { cluster, broadcast, advance: (ms: number) => (now += ms) };
}

const n2Snapshot = (version: number): PresenceSnapshot => ({
  type: 'presence_snapshot',
  nodeId: 'n2',
  epoch: 7,
  version,
  sessions: [{ clientId: 'c-bob', nick: 'bob', rooms: [] }],
});

describe('ClusterPresence', () => {
  it('versions each change of its clients from its start time, and snapshots carry the version', () => {
    const { cluster, broadcast } = presence();
    cluster.changed({ event: 'online', clientId: 'c-alice', nick: 'alice' });
    cluster.changed({ event: 'joined', clientId: 'c-alice', nick: 'alice', room: 'general' });
    expect(broadcast.map((d) => [d.epoch, d.version, d.event])).toEqual([
      [1000, 1, 'online'],
      [1000, 2, 'joined'],
    ]);
    expect(cluster.snapshot()).toMatchObject({ nodeId: 'n1', epoch: 1000, version: 2, departed: [] });
    expect(cluster.versions()).toEqual({ n1: { epoch: 1000, version: 2 } });
  });

  it('sends a peer the snapshots it holds newer, never the peer its own, and says when the peer has newer', () => {
    const { cluster } = presence();
    cluster.directory.applySnapshot('n2', n2Snapshot(3));
    const sent: PresenceSnapshot[] = [];
    const theirs: Record<string, PresenceVersion> = { n2: { epoch: 7, version: 3 }, n3: { epoch: 1, version: 1 } };
    expect(cluster.reconcile('n3', theirs, (s) => sent.push(s))).toBe(true);
    expect(sent.map((s) => s.nodeId)).toEqual(['n1']);
    sent.length = 0;
    expect(cluster.reconcile('n2', { n1: { epoch: 1000, version: 0 } }, (s) => sent.push(s))).toBe(false);
    expect(sent).toEqual([]);
  });

  it('is unsettled for the grace after it starts and after a peer dies, then settled', () => {
    const { cluster, advance } = presence(5000);
    expect(cluster.unsettledMs()).toBe(5000);
    advance(6000);
    expect(cluster.unsettledMs()).toBe(0);
    cluster.directory.applySnapshot('n2', n2Snapshot(1));
    cluster.nodeDied('n2');
    expect(cluster.unsettledMs()).toBe(5000);
    expect(cluster.directory.clientCount('n2')).toBe(0);
  });
});
