import { describe, expect, it } from 'vitest';
import { AwaitedRecipients } from '../src/chat/awaited-recipients.js';
import type { Identity } from '../src/chat/client-session.js';

/** AwaitedRecipients over a hand-fed directory and hand-fired timers. */
function awaited() {
  const known = new Map<string, Identity>();
  const timers = new Set<() => void>();
  const recipients = new AwaitedRecipients({
    find: (nick) => known.get(nick.toLowerCase()),
    setTimer: (task) => {
      timers.add(task);
      return () => timers.delete(task);
    },
  });
  const outcomes: string[] = [];
  const wait = (nick: string, label: string) =>
    recipients.wait(
      nick,
      1000,
      (found) => outcomes.push(`${label} -> ${found.clientId}`),
      () => outcomes.push(`${label} timed out`),
    );
  const fireTimers = () => {
    for (const task of [...timers]) {
      timers.delete(task);
      task();
    }
  };
  return { recipients, known, outcomes, wait, fireTimers, timerCount: () => timers.size };
}

describe('AwaitedRecipients (direct messages waiting for their recipient to be known)', () => {
  it('hands each waiting message on, once, when its nick can be found, in the order they came', () => {
    const { recipients, known, outcomes, wait, timerCount } = awaited();
    wait('Bob', 'dm 1');
    wait('carol', 'dm 2');
    wait('bob', 'dm 3');
    recipients.recheck();
    expect(outcomes).toEqual([]);
    known.set('bob', { clientId: 'c-bob', nick: 'bob' });
    recipients.recheck();
    recipients.recheck();
    expect(outcomes).toEqual(['dm 1 -> c-bob', 'dm 3 -> c-bob']);
    expect(recipients.size).toBe(1);
    expect(timerCount()).toBe(1);
  });

  it('times out the ones whose recipient never appears, and clear drops the rest silently', () => {
    const { recipients, outcomes, wait, fireTimers } = awaited();
    wait('bob', 'dm 1');
    fireTimers();
    expect(outcomes).toEqual(['dm 1 timed out']);
    wait('bob', 'dm 2');
    recipients.clear();
    fireTimers();
    expect(outcomes).toEqual(['dm 1 timed out']);
    expect(recipients.size).toBe(0);
  });
});
