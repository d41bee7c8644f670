import type { ClientFrame, ServerFrame } from '@meshchat/protocol';
import { ChatClientError } from './errors.js';

export type RequestFrame = Extract<ClientFrame, { reqId: number }>;
type Reply = Extract<ServerFrame, { reqId: number }>;

interface Pending {
  frame: RequestFrame;
  resolve(reply: Reply): void;
  reject(error: ChatClientError): void;
  timer: ReturnType<typeof setTimeout>;
}

/** Requests waiting for their reply, by reqId; kept across reconnects and re-sent. */
export class PendingRequests {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly timeoutMs: number) {}

  create<F extends RequestFrame>(build: (reqId: number) => F): { frame: F; reply: Promise<Reply> } {
    const frame = build(this.nextId++);
    const reply = new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(frame.reqId);
        reject(new ChatClientError('TIMEOUT', `no reply to ${frame.type} within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(frame.reqId, { frame, resolve, reject, timer });
    });
    return { frame, reply };
  }

  frames(): RequestFrame[] {
    return [...this.pending.values()].map((p) => p.frame);
  }

  resolve(reply: Reply): void {
    const pending = this.take(reply.reqId);
    pending?.resolve(reply);
  }

  /** Returns false when no request has that reqId. */
  reject(reqId: number, error: ChatClientError): boolean {
    const pending = this.take(reqId);
    pending?.reject(error);
    return pending !== undefined;
  }

  rejectAll(error: ChatClientError): void {
    for (const reqId of [...this.pending.keys()]) this.reject(reqId, error);
  }

  private take(reqId: number): Pending | undefined {
    const pending = this.pending.get(reqId);
    if (!pending) return undefined;
    clearTimeout(pending.timer);
    this.pending.delete(reqId);
    return pending;
  }
}
