import type { ClientFrameOf, MessageId } from '@meshchat/protocol';
import type { ChatClientError } from './errors.js';

export type OutgoingFrame = ClientFrameOf<'send'> | ClientFrameOf<'dm'>;

interface Entry {
  frame: OutgoingFrame;
  resolve(id: MessageId): void;
  reject(error: ChatClientError): void;
}

/**
 * Messages sent but not yet acked, in the order they were sent. They are written
 * again, with their original clientMsgId, after every reconnect until a node acks
 * them; nodes dedupe on (clientId, clientMsgId), so a resend is never shown twice.
 */
export class Outbox {
  private readonly entries = new Map<string, Entry>();

  get size(): number {
    return this.entries.size;
  }

  add(frame: OutgoingFrame): Promise<MessageId> {
    return new Promise((resolve, reject) => {
      this.entries.set(frame.clientMsgId, { frame, resolve, reject });
    });
  }

  frames(): OutgoingFrame[] {
    return [...this.entries.values()].map((entry) => entry.frame);
  }

  ack(clientMsgId: string, id: MessageId): void {
    const entry = this.entries.get(clientMsgId);
    if (!entry) return;
    this.entries.delete(clientMsgId);
    entry.resolve(id);
  }

  /** Returns false when no unacked message has that clientMsgId. */
  fail(clientMsgId: string, error: ChatClientError): boolean {
    const entry = this.entries.get(clientMsgId);
    if (!entry) return false;
    this.entries.delete(clientMsgId);
    entry.reject(error);
    return true;
  }

  failAll(error: ChatClientError): void {
    for (const clientMsgId of [...this.entries.keys()]) this.fail(clientMsgId, error);
  }
}
