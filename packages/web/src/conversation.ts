/** One line of a conversation as the page shows it: a room message or a direct message. */
export interface ShownMessage {
  /** The message's id, `room/origin/seq`: the page shows each id once. */
  id: string;
  hlc: number;
  origin: string;
  seq: number;
  from: { clientId: string; nick: string };
  clientMsgId: string;
  text: string;
  sentAt: number;
}

/** Where a message goes in display order: history order, by hlc, then origin, then seq. */
function isBefore(a: ShownMessage, b: ShownMessage): boolean {
  if (a.hlc !== b.hlc) return a.hlc < b.hlc;
  if (a.origin !== b.origin) return a.origin < b.origin;
  return a.seq < b.seq;
}

/**
 * The messages of one room or one direct conversation, in display order, each shown
 * once. ChatClient already shows every live and resumed message once; the page adds
 * history pages that overlap what is shown, so it keeps its own check: by id, and by
 * (sender, clientMsgId) for a message that was accepted twice under two ids (sent to
 * a node that died before relaying it, and resent to another).
 */
export class Conversation {
  readonly messages: ShownMessage[] = [];
  unread = 0;
  /** False once a history page said nothing older exists. */
  hasOlder = true;
  private readonly ids = new Set<string>();
  private readonly sends = new Set<string>();

  constructor(
    /** A room name, or `@nick` for direct messages with nick. */
    readonly name: string,
  ) {}

  get isDirect(): boolean {
    return this.name.startsWith('@');
  }

  get oldest(): ShownMessage | undefined {
    return this.messages[0];
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** Adds a message in its place; returns its index, or undefined when it is shown already. */
  add(message: ShownMessage): number | undefined {
    const send = `${message.from.clientId}\u0000${message.clientMsgId}`;
    if (this.ids.has(message.id) || this.sends.has(send)) return undefined;
    this.ids.add(message.id);
    this.sends.add(send);
    // Live messages come last almost always; history pages come first.
    let index = this.messages.length;
    while (index > 0 && isBefore(message, this.messages[index - 1] as ShownMessage)) index--;
    this.messages.splice(index, 0, message);
    return index;
  }
}
