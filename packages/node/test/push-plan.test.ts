import { PushPlan } from '@meshchat/node';
import { describe, expect, it } from 'vitest';

function plan(owners: Record<string, string> = {}) {
  const clock = { now: 0 };
  const push = new PushPlan({
    now: () => clock.now,
    retryAfterMs: 1000,
    linkedOwnerOf: (origin) => owners[origin],
  });
  return { push, clock };
}

describe('PushPlan (who sends what in anti-entropy)', () => {
  it('pushes our own stream, or one whose owner is not linked, at once and only once per retry window', () => {
    const { push, clock } = plan();
    expect(push.plan('c', 'general', 'a', 1, 100)).toBe(1);
    // A later round while those are in flight: only what is new.
    expect(push.plan('c', 'general', 'a', 1, 100)).toBeUndefined();
    expect(push.plan('c', 'general', 'a', 1, 120)).toBe(101);
    // The peer still lacks them a window later: they were lost, push again.
    clock.now = 1000;
    expect(push.plan('c', 'general', 'a', 1, 120)).toBe(1);
  });

  it('pushes again at once to a peer whose link went down', () => {
    const { push } = plan();
    expect(push.plan('c', 'general', 'a', 1, 100)).toBe(1);
    push.forget('c');
    expect(push.plan('c', 'general', 'a', 1, 100)).toBe(1);
  });

  it("leaves a stream to its linked owner, and pushes it only when the peer's gap stays put for a window", () => {
    const { push, clock } = plan({ b: 'b' });
    expect(push.plan('c', 'general', 'b', 1, 100)).toBeUndefined();
    // The owner is delivering: the gap moves, so keep leaving it.
    clock.now = 800;
    expect(push.plan('c', 'general', 'b', 51, 100)).toBeUndefined();
    clock.now = 1700;
    expect(push.plan('c', 'general', 'b', 51, 120)).toBeUndefined();
    // No progress for a window: the owner cannot reach the peer, so we push.
    clock.now = 1800;
    expect(push.plan('c', 'general', 'b', 51, 120)).toBe(51);
    expect(push.plan('c', 'general', 'b', 51, 120)).toBeUndefined();
  });

  it('pushes the owner its own stream: nobody else would', () => {
    const { push } = plan({ b: 'b' });
    expect(push.plan('b', 'general', 'b', 1, 10)).toBe(1);
  });
});
