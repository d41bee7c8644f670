import type { ChatMessage } from '@meshchat/protocol';

/** A message from a peer shown to this node's clients before this node committed it. */
export interface ShownMessage {
  message: ChatMessage;
  /** Its frame as the peer sent it, when there is one. */
  encoded: Uint8Array | undefined;
}

/**
 * Room messages from peers are shown to this node's clients as soon as they are in
 * order, without waiting for this node's own commit: their origin committed them before
 * relaying them (design.md guarantee 1), so whatever a client is shown is durable on
 * some node, and a message crosses one fsync'd commit between its sender and a client
 * elsewhere, not two. Until this node's commit completes the message is in neither the
 * history nor the version vector a joining session is given; `inRoom` lets the join
 * send it after its reply. A message shown once is never shown again, not even when its
 * commit failed and anti-entropy brings it back.
 */
export class ShownEarly {
  // Per (room, origin): the highest seq shown.
  private readonly shownUpTo = new Map<string, number>();
  // Per room, the messages shown and still waiting for their commit, in the order shown.
  // A Map: a commit settles its messages in O(1) each, however long the queue behind.
  private readonly waiting = new Map<string, Map<ChatMessage, ShownMessage>>();

  /** Records `message` as shown unless it was before; says whether to show it now. */
  show(streamKey: string, message: ChatMessage, encoded: Uint8Array | undefined): boolean {
    if (message.seq <= (this.shownUpTo.get(streamKey) ?? 0)) return false;
    this.shownUpTo.set(streamKey, message.seq);
    let room = this.waiting.get(message.room);
    if (!room) {
      room = new Map();
      this.waiting.set(message.room, room);
    }
    room.set(message, { message, encoded });
    return true;
  }

  /** Their commit completed (or failed): history or a later copy will carry them. */
  settle(messages: readonly ChatMessage[]): void {
    for (const message of messages) {
      const room = this.waiting.get(message.room);
      if (!room) continue;
      room.delete(message);
      if (room.size === 0) this.waiting.delete(message.room);
    }
  }

  /** The room's messages shown and not yet committed here, in the order they were shown. */
  inRoom(room: string): readonly ShownMessage[] {
    const waiting = this.waiting.get(room);
    return waiting ? [...waiting.values()] : [];
  }
}
