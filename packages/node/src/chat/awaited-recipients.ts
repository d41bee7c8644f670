import type { Identity } from './client-session.js';
import { nickKey } from './rules.js';

interface Waiter {
  nick: string;
  found: (recipient: Identity) => void;
  cancel: () => void;
}

export interface AwaitedRecipientsDeps {
  /** The client a nick names now, connected or within its resume grace. */
  find: (nick: string) => Identity | undefined;
  /** Runs `task` once after `ms`; the function returned cancels it. */
  setTimer: (task: () => void, ms: number) => () => void;
}

/**
 * Direct messages to a nick this node cannot find while its view of who is online may
 * be incomplete: just after it started, or after a peer died and its clients are
 * failing over. A node that came up as another went down may have heard of that
 * node's clients from no one; the sender's outbox resends to it, and refusing the
 * message would lose it. So it waits for the nick to appear (the client resumes here
 * or is reported by a peer), until the view is settled.
 */
export class AwaitedRecipients {
  private readonly waiting = new Set<Waiter>();

  constructor(private readonly deps: AwaitedRecipientsDeps) {}

  /** Calls `found` once `nick` can be found, or `timedOut` after `ms`. */
  wait(nick: string, ms: number, found: (recipient: Identity) => void, timedOut: () => void): void {
    const waiter: Waiter = {
      nick,
      found,
      cancel: this.deps.setTimer(() => {
        this.waiting.delete(waiter);
        timedOut();
      }, ms),
    };
    this.waiting.add(waiter);
  }

  /** Presence changed: hands on each waiting message whose recipient can now be found. */
  recheck(): void {
    if (this.waiting.size === 0) return;
    const byNick = new Map<string, Identity | undefined>();
    for (const waiter of [...this.waiting]) {
      const key = nickKey(waiter.nick);
      if (!byNick.has(key)) byNick.set(key, this.deps.find(waiter.nick));
      const recipient = byNick.get(key);
      if (!recipient) continue;
      this.waiting.delete(waiter);
      waiter.cancel();
      waiter.found(recipient);
    }
  }

  get size(): number {
    return this.waiting.size;
  }

  /** Drops every waiting message (the node is stopping; senders resend elsewhere). */
  clear(): void {
    for (const waiter of this.waiting) waiter.cancel();
    this.waiting.clear();
  }
}
