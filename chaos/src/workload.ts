import type { ChaosClient } from './chaos-client.js';

/**
 * Every client sends one message every `everyMs` on its own timer (started at a random
 * offset, so clients do not send in lockstep), to its rooms in turn, never waiting for
 * an ack. Bounded: no client sends more than `maxPerClient`, whatever happens.
 */
export class Workload {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly sentByRoom = new Map<string, number>();

  constructor(
    private readonly clients: readonly ChaosClient[],
    private readonly everyMs: number,
    private readonly maxPerClient: number,
  ) {}

  start(): void {
    for (const client of this.clients) {
      const tick = () => {
        if (client.sentCount >= this.maxPerClient) return;
        const room = client.rooms[client.sentCount % client.rooms.length] as string;
        this.sentByRoom.set(room, (this.sentByRoom.get(room) ?? 0) + 1);
        client.send(room);
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

  /** Messages sent to `room` so far. */
  sentTo(room: string): number {
    return this.sentByRoom.get(room) ?? 0;
  }
}
