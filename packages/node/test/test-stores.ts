// Stores for tests that need to control when a commit happens.
import { type AppendEntry, MemoryStore } from '@meshchat/node';

/**
 * A MemoryStore that, like LmdbStore, names a message's id as soon as the append is
 * issued, but commits only when the test says so. `append` goes through `appendBatch`,
 * so both are held.
 */
export class HeldCommitStore extends MemoryStore {
  private readonly held: (() => void)[] = [];
  private readonly pending = new Map<string, { room: string; origin: string; seq: number }>();

  override appendBatch(entries: readonly AppendEntry[]): Promise<void> {
    for (const { message } of entries) {
      const key = `${message.from.clientId}/${message.clientMsgId}`;
      this.pending.set(key, { room: message.room, origin: message.origin, seq: message.seq });
    }
    return new Promise((resolve, reject) => {
      this.held.push(() => super.appendBatch(entries).then(resolve, reject));
    });
  }

  override findByClientMsgId(clientId: string, clientMsgId: string) {
    return this.pending.get(`${clientId}/${clientMsgId}`) ?? super.findByClientMsgId(clientId, clientMsgId);
  }

  get heldCount(): number {
    return this.held.length;
  }

  commitAll(): void {
    for (const commit of this.held.splice(0)) commit();
  }
}
