// The page's own logic, without a browser: the order and the exactly-once check of a
// conversation, the composer's commands, and the nick colours.
import { describe, expect, it } from 'vitest';
import { parseCommand } from '../src/commands.js';
import { Conversation, type ShownMessage } from '../src/conversation.js';
import { nickHue } from '../src/nick-colour.js';

function message(origin: string, seq: number, hlc: number, clientMsgId = `${origin}-${seq}`): ShownMessage {
  return {
    id: `general/${origin}/${seq}`,
    hlc,
    origin,
    seq,
    from: { clientId: 'c1', nick: 'alice' },
    clientMsgId,
    text: `${origin} ${seq}`,
    sentAt: Math.floor(hlc / 1024),
  };
}

describe('Conversation', () => {
  it('keeps history order (hlc, then origin, then seq) whatever order messages arrive in', () => {
    const c = new Conversation('general');
    expect(c.add(message('b', 1, 300))).toBe(0);
    expect(c.add(message('a', 1, 100))).toBe(0);
    expect(c.add(message('a', 2, 300))).toBe(1);
    expect(c.add(message('c', 1, 500))).toBe(3);
    expect(c.messages.map((m) => m.id)).toEqual(['general/a/1', 'general/a/2', 'general/b/1', 'general/c/1']);
    expect(c.oldest?.id).toBe('general/a/1');
  });

  it('shows a message once when history and live delivery overlap', () => {
    const c = new Conversation('general');
    c.add(message('a', 1, 100));
    expect(c.add(message('a', 1, 100))).toBeUndefined();
    expect(c.messages).toHaveLength(1);
    expect(c.has('general/a/1')).toBe(true);
  });

  it('shows once a message accepted under two ids (resent to another node after a failover)', () => {
    const c = new Conversation('general');
    c.add(message('a', 7, 100, 'same-send'));
    expect(c.add(message('b', 3, 120, 'same-send'))).toBeUndefined();
    expect(c.messages.map((m) => m.id)).toEqual(['general/a/7']);
  });

  it('tells rooms from direct conversations', () => {
    expect(new Conversation('general').isDirect).toBe(false);
    expect(new Conversation('@carol').isDirect).toBe(true);
  });
});

describe('parseCommand', () => {
  it.each([
    ['hello', { kind: 'say', text: 'hello' }],
    ['  /join #random ', { kind: 'join', room: '#random' }],
    ['/leave', { kind: 'leave' }],
    ['/part random', { kind: 'leave', room: 'random' }],
    ['/msg bob how are you', { kind: 'dm', nick: 'bob', text: 'how are you' }],
    ['//shrug', { kind: 'say', text: '/shrug' }],
  ])('%s', (line, command) => {
    expect(parseCommand(line)).toEqual(command);
  });

  it('explains a command it does not know or one without its arguments', () => {
    expect(parseCommand('/nick bob')).toMatchObject({
      kind: 'invalid',
      problem: expect.stringMatching(/unknown command \/nick/),
    });
    expect(parseCommand('/msg bob')).toEqual({ kind: 'invalid', problem: 'usage: /msg nick text' });
    expect(parseCommand('/join')).toEqual({ kind: 'invalid', problem: 'usage: /join room' });
  });
});

describe('nickHue', () => {
  it('is the same for a nick in any case, and spreads nicks over the circle', () => {
    expect(nickHue('Alice')).toBe(nickHue('alice'));
    const hues = new Set(['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi'].map(nickHue));
    expect(hues.size).toBeGreaterThan(6);
    for (const hue of hues) expect(hue).toBeGreaterThanOrEqual(0);
  });
});
