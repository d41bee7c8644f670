import type { RoomSummary } from '@meshchat/client/browser';
import type { Conversation } from '../conversation.js';
import { h } from '../dom.js';

export interface ConversationListHandlers {
  open(name: string): void;
  leave(room: string): void;
  join(room: string): void;
}

/**
 * The sidebar: joined rooms and direct conversations with their unread counts, and
 * the cluster's other rooms to join with a click.
 */
export class ConversationList {
  constructor(
    private readonly rooms: HTMLElement,
    private readonly directs: HTMLElement,
    private readonly directory: HTMLElement,
    private readonly handlers: ConversationListHandlers,
  ) {}

  render(conversations: Iterable<Conversation>, current: string): void {
    const rooms: HTMLElement[] = [];
    const directs: HTMLElement[] = [];
    for (const conversation of conversations) {
      (conversation.isDirect ? directs : rooms).push(this.entry(conversation, current));
    }
    this.rooms.replaceChildren(...rooms);
    this.directs.replaceChildren(...(directs.length > 0 ? directs : [h('li', { class: 'empty' }, 'click a member')]));
  }

  renderDirectory(available: RoomSummary[], joined: (room: string) => boolean): void {
    const others = available.filter((r) => !joined(r.name));
    this.directory.replaceChildren(
      ...others.map((room) => {
        const button = h(
          'button',
          { type: 'button', class: 'link' },
          `#${room.name}`,
          h('small', {}, ` ${room.members}`),
        );
        button.addEventListener('click', () => this.handlers.join(room.name));
        return h('li', {}, button);
      }),
    );
  }

  private entry(conversation: Conversation, current: string): HTMLElement {
    const label = conversation.isDirect ? conversation.name.slice(1) : `#${conversation.name}`;
    const open = h(
      'button',
      { type: 'button', class: 'link' },
      label,
      conversation.unread > 0 ? h('span', { class: 'unread' }, String(conversation.unread)) : null,
    );
    open.addEventListener('click', () => this.handlers.open(conversation.name));
    const item = h('li', {
      class: conversation.name === current ? 'current' : undefined,
      'data-conversation': conversation.name,
      'data-unread': String(conversation.unread),
    });
    item.append(open);
    if (!conversation.isDirect) {
      const leave = h('button', { type: 'button', class: 'leave', title: `leave #${conversation.name}` }, '×');
      leave.addEventListener('click', () => this.handlers.leave(conversation.name));
      item.append(leave);
    }
    return item;
  }
}
