import type { ChatMessage } from '@meshchat/protocol';
import { backoffDelay } from '@meshchat/protocol';
import { describe, expect, it } from 'vitest';
import { RoomCursors } from '../src/room-cursors.js';
import { SeenPosition, SHOWN_WINDOW } from '../src/seen-position.js';
import { ServerList } from '../src/server-list.js';

const message = (origin: string, seq: number, clientMsgId = `${origin}-${seq}`): ChatMessage => ({
  room: 'r',
  origin,
  seq,
  hlc: seq,
  from: { clientId: 'c1', nick: 'n' },
  text: 't',
  clientMsgId,
  sentAt: 0,
});

describe('backoffDelay (exponential, full jitter)', () => {
  const options = { initialMs: 100, maxMs: 5000 };
  it('stays within [0, min(cap, initial * 2^attempt))', () => {
    expect(backoffDelay(0, options, () => 0.999)).toBeLessThan(100);
    expect(backoffDelay(3, options, () => 0.999)).toBeLessThan(800);
    expect(backoffDelay(3, options, () => 0.999)).toBeGreaterThan(790);
    expect(backoffDelay(20, options, () => 0.999)).toBeLessThan(5000);
    expect(backoffDelay(20, options, () => 0)).toBe(0);
  });
});

describe('ServerList', () => {
  it('goes round its servers and adds learned ones once', () => {
    const list = new ServerList(['a:1', 'b:2', 'a:1'], () => 0.999);
    expect(list.size).toBe(2);
    const seen = [list.next(), list.next(), list.next()];
    expect(seen[0]).toBe(seen[2]);
    list.learn(['b:2', 'c:3']);
    expect(list.all).toHaveLength(3);
  });

  it('shuffles so that clients with one seed list spread over it', () => {
    const firsts = new Set<string>();
    let seed = 1;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    for (let i = 0; i < 50; i++) firsts.add(new ServerList(['a:1', 'b:2', 'c:3'], random).next());
    expect(firsts.size).toBe(3);
  });
});

describe('RoomCursors', () => {
  it('shows each message once and never one at or below the cursor', () => {
    const cursors = new RoomCursors();
    cursors.advanceTo('r', { x: 2 });
    expect(cursors.accept(message('x', 2))).toBe(false);
    expect(cursors.accept(message('x', 3))).toBe(true);
    expect(cursors.accept(message('x', 3))).toBe(false);
    expect(cursors.accept(message('y', 1))).toBe(true);
    expect(cursors.cursor('r')).toEqual({ x: 3, y: 1 });
  });

  it('drops a second copy of one send that got another id on another node', () => {
    const cursors = new RoomCursors();
    expect(cursors.accept(message('node-b', 1, 'same'))).toBe(true);
    expect(cursors.accept(message('node-c', 4, 'same'))).toBe(false);
    // The alias still moves the cursor, so a resume does not replay it.
    expect(cursors.cursor('r')).toEqual({ 'node-b': 1, 'node-c': 4 });
  });
});

describe('SeenPosition', () => {
  const sighting = (origin: string, seq: number, clientMsgId: string) => ({
    origin,
    seq,
    from: { clientId: 'c1' },
    clientMsgId,
  });

  it('remembers the clientMsgIds of the last SHOWN_WINDOW messages shown, and forgets older ones', () => {
    const position = new SeenPosition();
    for (let seq = 1; seq <= SHOWN_WINDOW + 1; seq++) {
      expect(position.accept(sighting('node-b', seq, `m${seq}`))).toBe(true);
    }
    // Resent under other ids: m2 is the oldest still remembered, m1 has left the window.
    expect(position.accept(sighting('node-c', 1, 'm2'))).toBe(false);
    expect(position.accept(sighting('node-c', 2, `m${SHOWN_WINDOW + 1}`))).toBe(false);
    expect(position.accept(sighting('node-c', 3, 'm1'))).toBe(true);
  });
});
