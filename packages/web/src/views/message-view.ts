import type { Conversation, ShownMessage } from '../conversation.js';
import { h } from '../dom.js';
import { nickHue } from '../nick-colour.js';
import { fullTime, shortTime } from '../time-format.js';

// Within this many pixels of the top, an older page is asked for; of the bottom, the
// view follows new messages.
const NEAR_EDGE_PX = 80;

/** A message sent from this page and not acked yet (it may be waiting out a failover). */
export interface PendingSend {
  text: string;
  element: HTMLElement;
}

/**
 * The message list of the conversation on screen. Each message is one element keyed
 * by its id (data-id), so a message is on the page once whatever path brought it.
 * Notes (joins, leaves, failovers) and pending sends are lines without an id.
 */
export class MessageView {
  private conversation: Conversation | undefined;
  private readonly pendingList: HTMLElement;

  constructor(
    private readonly list: HTMLElement,
    private readonly scroller: HTMLElement,
  ) {
    this.pendingList = h('li', { class: 'pending-list' });
  }

  /** Shows `conversation` from scratch, scrolled to its newest message. */
  show(conversation: Conversation): void {
    this.conversation = conversation;
    this.list.replaceChildren(...conversation.messages.map(render));
    this.pendingList.replaceChildren();
    this.list.append(this.pendingList);
    this.updateStart();
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  get shown(): Conversation | undefined {
    return this.conversation;
  }

  /** Whether the reader scrolled up to the oldest message shown. */
  get isNearTop(): boolean {
    return this.scroller.scrollTop < NEAR_EDGE_PX;
  }

  /** Whether the list fits without scrolling, so scrolling cannot ask for older messages. */
  get isShort(): boolean {
    return this.scroller.scrollHeight <= this.scroller.clientHeight + NEAR_EDGE_PX;
  }

  /** A message added to the shown conversation at `index` of its messages. */
  insert(message: ShownMessage, index: number): void {
    const follow = this.isAtBottom();
    const next = this.conversation?.messages[index + 1];
    const before = next ? this.list.querySelector(`[data-id="${CSS.escape(next.id)}"]`) : null;
    this.list.insertBefore(render(message), before ?? this.pendingList);
    if (follow) this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  /** Older messages were added at the start: shows them and keeps the reader's place. */
  prependedOlder(): void {
    const conversation = this.conversation;
    if (!conversation) return;
    const fromBottom = this.scroller.scrollHeight - this.scroller.scrollTop;
    const first = this.list.querySelector('[data-id]');
    const older = [];
    for (const message of conversation.messages) {
      if (first && (first as HTMLElement).dataset.id === message.id) break;
      older.push(render(message));
    }
    if (first) first.before(...older);
    else this.pendingList.before(...older);
    this.updateStart();
    this.scroller.scrollTop = this.scroller.scrollHeight - fromBottom;
  }

  /** A line about what happened (a join, a failover), in the shown conversation only. */
  note(text: string, kind = 'note'): void {
    const follow = this.isAtBottom();
    this.pendingList.before(h('li', { class: kind }, text));
    if (follow) this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  addPending(text: string): PendingSend {
    const element = h('li', { class: 'pending', title: 'waiting for the node to store it' }, h('span', {}, text));
    this.pendingList.append(element);
    this.scroller.scrollTop = this.scroller.scrollHeight;
    return { text, element };
  }

  /** A pending send of this conversation again, after another one was on screen. */
  showPending(send: PendingSend): void {
    this.pendingList.append(send.element);
  }

  private updateStart(): void {
    const conversation = this.conversation;
    this.list.querySelector('.start')?.remove();
    if (!conversation || conversation.hasOlder) return;
    const what = conversation.isDirect ? `your messages with ${conversation.name.slice(1)}` : `#${conversation.name}`;
    this.list.prepend(h('li', { class: 'start' }, `the beginning of ${what}`));
  }

  private isAtBottom(): boolean {
    return this.scroller.scrollHeight - this.scroller.scrollTop - this.scroller.clientHeight < NEAR_EDGE_PX;
  }
}

function render(message: ShownMessage): HTMLElement {
  const nick = h('span', { class: 'nick' }, message.from.nick);
  nick.style.setProperty('--hue', String(nickHue(message.from.nick)));
  return h(
    'li',
    { class: 'message', 'data-id': message.id },
    h(
      'time',
      { datetime: new Date(message.sentAt).toISOString(), title: fullTime(message.sentAt) },
      shortTime(message.sentAt),
    ),
    nick,
    h('span', { class: 'text' }, message.text),
  );
}
