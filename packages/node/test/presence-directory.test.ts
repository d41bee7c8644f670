import type { PeerFrameOf } from '@meshchat/protocol';
import { describe, expect, it } from 'vitest';
import { PresenceDirectory, type RemotePresenceChange } from '../src/chat/presence-directory.js';

type Snapshot = PeerFrameOf<'presence_snapshot'>;

function directory(dead: string[] = []) {
  const changes: RemotePresenceChange[] = [];
  const presence = new PresenceDirectory({ onChange: (c) => changes.push(c), isDead: (id) => dead.includes(id) });
  return { presence, changes };
}

const snapshotOfN1 = (version: number, extra: Partial<Snapshot> = {}): Snapshot => ({
  type: 'presence_snapshot',
  nodeId: 'n1',
  epoch: 1,
  version,
  sessions: [{ clientId: 'c-alice', nick: 'alice', rooms: ['general'] }],
  ...extra,
});

describe('PresenceDirectory snapshots', () => {
  it('takes a copy of a live node from a third node as its sessions', () => {
    const { presence, changes } = directory();
    presence.applySnapshot('n2', snapshotOfN1(3));
    expect(changes.map((c) => c.event)).toEqual(['online', 'joined']);
    expect(presence.clientCount('n1')).toBe(1);
  });

  it('reports the clients of a copy of a node it holds dead as departed, not as sessions', () => {
    const { presence, changes } = directory(['n1']);
    presence.applySnapshot('n2', snapshotOfN1(3));
    expect(changes).toEqual([
      {
        event: 'departed',
        member: { clientId: 'c-alice', nick: 'alice', nodeId: 'n1' },
        rooms: ['general'],
        graceLeftMs: undefined,
      },
    ]);
    expect(presence.clientCount('n1')).toBe(0);
  });

  it('reports the clients an owner holds in their grace as departed, with the grace they have left', () => {
    const { presence, changes } = directory();
    const departed = [{ clientId: 'c-bob', nick: 'bob', nodeId: 'n3', rooms: ['random'], graceLeftMs: 1200 }];
    presence.applySnapshot('n1', snapshotOfN1(3, { departed }));
    expect(changes.filter((c) => c.event === 'departed')).toEqual([
      {
        event: 'departed',
        member: { clientId: 'c-bob', nick: 'bob', nodeId: 'n3' },
        rooms: ['random'],
        graceLeftMs: 1200,
      },
    ]);
    // A forwarded copy carries no departures: only the owner knows its view.
    changes.length = 0;
    presence.applySnapshot('n2', snapshotOfN1(4, { departed }));
    expect(changes.filter((c) => c.event === 'departed')).toEqual([]);
  });
});
