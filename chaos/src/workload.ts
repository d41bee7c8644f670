import type { ChaosClient } from './chaos-client.js';
import { DM_EVERY } from './constants.js';

/**
 * Every client sends one message every `everyMs` on its own timer (started at a random
 * offset, so clients do not send in lockstep), to its rooms in turn and every DM_EVERY-th
 * one to another client directly, never waiting for an ack. Bounded: no client sends
 * more than `maxPerClient`, whatever happens.
 */
export class Workload {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly ackedByRoom = new Map<string, number>();

  constructor(
    private readonly clients: readonly ChaosClient[],
    private readonly everyMs: number,
    private readonly maxPerClient: number,
  ) {}

  start(): void {
    for (const client of this.clients) {
      const others = this.clients.filter((c) => c !== client);
      const tick = () => {
        const k = client.sentCount;
        if (k >= this.maxPerClient) return;
        if (others.length > 0 && k % DM_EVERY === DM_EVERY - 1) {
          const to = others[Math.floor(Math.random() * others.length)] as ChaosClient;
          client.dm(to, () => this.countAcked(to.inbox));
          return;
        }
        const room = client.rooms[k % client.rooms.length] as string;
        client.send(room, () => this.countAcked(room));
      };
      const start = setTimeout(
        () => {
          this.timers.delete(start);
          this.timers.add(setInterval(tick, this.everyMs));
        },
        Math.floor(Math.random() * this.everyMs),
      );
      this.timers.add(start);
    }
  }

  stop(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  /** Messages sent to `room` (a client's inbox for direct messages) and acked so far. */
  ackedIn(room: string): number {
    return this.ackedByRoom.get(room) ?? 0;
  }

  private countAcked(room: string): void {
    this.ackedByRoom.set(room, (this.ackedByRoom.get(room) ?? 0) + 1);
  }
}
