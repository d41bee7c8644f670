import type { ChatMessage } from '@meshchat/protocol';
import { describe, expect, it } from 'vitest';
import { ShownEarly } from '../src/replication/shown-early.js';

const message = (room: string, origin: string, seq: number): ChatMessage => ({
  room,
  origin,
  seq,
  hlc: seq,
  from: { clientId: 'c', nick: 'c' },
  text: `${origin}#${seq}`,
  clientMsgId: `${room}-${origin}-${seq}`,
  sentAt: seq,
});
const texts = (shown: ShownEarly, room: string) => shown.inRoom(room).map(({ message }) => message.text);

describe('ShownEarly', () => {
  it('keeps what is shown per room, in order, until settled in any order; shows a message once ever', () => {
    const shown = new ShownEarly();
    const a1 = message('lobby', 'a', 1);
    const a2 = message('lobby', 'a', 2);
    const b1 = message('lobby', 'b', 1);
    const other = message('other', 'a', 1);
    expect([a1, a2, b1].map((m) => shown.show(`lobby/${m.origin}`, m, undefined))).toEqual([true, true, true]);
    expect(shown.show('other/a', other, undefined)).toBe(true);
    expect(texts(shown, 'lobby')).toEqual(['a#1', 'a#2', 'b#1']);
    shown.settle([a2]);
    expect(texts(shown, 'lobby')).toEqual(['a#1', 'b#1']);
    shown.settle([a1, b1, other]);
    expect(texts(shown, 'lobby')).toEqual([]);
    expect(texts(shown, 'other')).toEqual([]);
    // Its commit failed and it came again: not shown twice, not waiting again.
    expect(shown.show('lobby/a', message('lobby', 'a', 2), undefined)).toBe(false);
    expect(shown.show('lobby/a', message('lobby', 'a', 3), undefined)).toBe(true);
    expect(texts(shown, 'lobby')).toEqual(['a#3']);
  });
});
