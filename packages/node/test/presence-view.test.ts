import type { Member } from '@meshchat/protocol';
import { describe, expect, it } from 'vitest';
import { localSource, PresenceView, peerSource } from '../src/chat/presence-view.js';

const GRACE_MS = 5000;

/** A PresenceView on a hand-driven clock, recording what it announces. */
function view() {
  const announced: string[] = [];
  const timers = new Set<{ at: number; task: () => void }>();
  let now = 0;
  const presence = new PresenceView({
    graceMs: GRACE_MS,
    now: () => now,
    announce: (room, event, member) => announced.push(`${event} ${room} ${member.nick}@${member.nodeId}`),
    setTimer: (task, ms) => {
      const timer = { at: now + ms, task };
      timers.add(timer);
      return () => timers.delete(timer);
    },
  });
  const advance = (ms: number) => {
    now += ms;
    for (const timer of [...timers].sort((a, b) => a.at - b.at)) {
      if (timer.at > now) continue;
      timers.delete(timer);
      timer.task();
    }
  };
  return { presence, announced, advance, pendingTimers: () => timers.size };
}

const alice = (nodeId: string): Member => ({ clientId: 'c-alice', nick: 'alice', nodeId });
const bob = (nodeId: string): Member => ({ clientId: 'c-bob', nick: 'bob', nodeId });

describe('PresenceView (who is shown in which room, with a grace for resumes)', () => {
  it('announces a join and an explicit leave at once, once per client', () => {
    const { presence, announced } = view();
    presence.online(localSource('s1'), alice('n1'));
    presence.joined(localSource('s1'), 'general', alice('n1'));
    presence.joined(localSource('s1'), 'general', alice('n1'));
    presence.left(localSource('s1'), 'c-alice', 'general');
    expect(announced).toEqual(['joined general alice@n1', 'left general alice@n1']);
    expect(presence.members('general')).toEqual([]);
  });

  it('shows nothing when a client that lost its node rejoins on another within the grace', () => {
    const { presence, announced, advance, pendingTimers } = view();
    presence.joined(peerSource('n1'), 'general', alice('n1'));
    presence.joined(peerSource('n1'), 'random', alice('n1'));
    presence.offline(peerSource('n1'), 'c-alice', { isGoodbye: false });
    expect(presence.members('general')).toEqual([alice('n1')]);
    advance(GRACE_MS - 1);
    presence.online(localSource('s2'), alice('n2'));
    presence.joined(localSource('s2'), 'general', alice('n2'));
    presence.joined(localSource('s2'), 'random', alice('n2'));
    expect(pendingTimers()).toBe(0);
    advance(GRACE_MS);
    expect(announced).toEqual(['joined general alice@n1', 'joined random alice@n1']);
    expect(presence.members('general')).toEqual([alice('n2')]);
  });

  it('shows nothing when the new node reports the client before its old node is noticed gone', () => {
    const { presence, announced, advance } = view();
    presence.joined(peerSource('n1'), 'general', alice('n1'));
    presence.joined(peerSource('n2'), 'general', alice('n2'));
    expect(presence.members('general')).toEqual([alice('n2')]);
    presence.offline(peerSource('n1'), 'c-alice', { isGoodbye: false });
    advance(GRACE_MS);
    expect(announced).toEqual(['joined general alice@n1']);
    expect(presence.rooms()).toEqual([{ name: 'general', members: 1 }]);
  });

  it('announces the leave after the grace, for the rooms not rejoined by then', () => {
    const { presence, announced, advance } = view();
    presence.joined(peerSource('n1'), 'general', alice('n1'));
    presence.joined(peerSource('n1'), 'random', alice('n1'));
    presence.offline(peerSource('n1'), 'c-alice', { isGoodbye: false });
    presence.joined(peerSource('n2'), 'general', alice('n2'));
    advance(GRACE_MS - 1);
    expect(announced).toHaveLength(2);
    advance(1);
    expect(announced).toEqual(['joined general alice@n1', 'joined random alice@n1', 'left random alice@n2']);
    expect(presence.members('random')).toEqual([]);
  });

  it('announces the leaves of a client that said goodbye at once, and forgets it', () => {
    const { presence, announced, pendingTimers } = view();
    presence.joined(localSource('s1'), 'general', alice('n1'));
    presence.offline(localSource('s1'), 'c-alice', { isGoodbye: true });
    expect(announced).toEqual(['joined general alice@n1', 'left general alice@n1']);
    expect(pendingTimers()).toBe(0);
    expect(presence.findByNick('alice')).toBeUndefined();
  });

  it('finds a client by nick while connected and within its grace, not after', () => {
    const { presence, advance } = view();
    presence.online(peerSource('n1'), alice('n1'));
    expect(presence.findByNick('ALICE')).toEqual({ clientId: 'c-alice', nick: 'alice' });
    presence.offline(peerSource('n1'), 'c-alice', { isGoodbye: false });
    advance(GRACE_MS - 1);
    expect(presence.findByNick('alice')).toEqual({ clientId: 'c-alice', nick: 'alice' });
    advance(1);
    expect(presence.findByNick('alice')).toBeUndefined();
  });

  it('keeps the grace from the last departure and counts each client once per room', () => {
    const { presence, announced, advance } = view();
    presence.joined(peerSource('n1'), 'general', alice('n1'));
    presence.joined(peerSource('n1'), 'general', bob('n1'));
    presence.offline(peerSource('n1'), 'c-alice', { isGoodbye: false });
    advance(GRACE_MS / 2);
    presence.joined(peerSource('n2'), 'general', alice('n2'));
    presence.offline(peerSource('n2'), 'c-alice', { isGoodbye: false });
    advance(GRACE_MS - 1);
    expect(presence.rooms()).toEqual([{ name: 'general', members: 2 }]);
    advance(1);
    expect(announced.slice(2)).toEqual(['left general alice@n2']);
  });

  it('reports the clients it holds with no session anywhere, with the grace they have left', () => {
    const { presence, advance } = view();
    presence.joined(peerSource('n1'), 'general', alice('n1'));
    presence.online(peerSource('n1'), bob('n1'));
    presence.online(localSource('s1'), bob('n2'));
    presence.offline(peerSource('n1'), 'c-alice', { isGoodbye: false });
    presence.offline(peerSource('n1'), 'c-bob', { isGoodbye: false });
    advance(1000);
    // Bob still has a session here: his node reports him, not this one.
    expect(presence.departed()).toEqual([{ member: alice('n1'), rooms: ['general'], graceLeftMs: GRACE_MS - 1000 }]);
    advance(GRACE_MS);
    expect(presence.departed()).toEqual([]);
  });

  it('holds a departed client a peer reports for the grace left, silently, and announces its leave when that ends', () => {
    const { presence, announced, advance } = view();
    presence.holdDeparted(alice('n1'), ['general'], 1500);
    expect(presence.members('general')).toEqual([alice('n1')]);
    expect(presence.findByNick('alice')).toEqual({ clientId: 'c-alice', nick: 'alice' });
    expect(announced).toEqual([]);
    advance(1500);
    expect(announced).toEqual(['left general alice@n1']);
    expect(presence.findByNick('alice')).toBeUndefined();
  });

  it('ignores a reported departure of a client it already shows, and one whose grace is over', () => {
    const { presence, announced, advance } = view();
    presence.joined(localSource('s1'), 'general', alice('n2'));
    presence.holdDeparted(alice('n1'), ['general', 'random'], 1500);
    presence.holdDeparted(bob('n1'), ['general'], 0);
    advance(GRACE_MS);
    expect(presence.members('general')).toEqual([alice('n2')]);
    expect(presence.members('random')).toEqual([]);
    expect(announced).toEqual(['joined general alice@n2']);
  });
});
