import type { Member } from '@meshchat/client/browser';
import { h } from '../dom.js';
import { nickHue } from '../nick-colour.js';

/** Who is in the room on screen, cluster-wide, and the node each is on; a click opens a DM. */
export class MemberList {
  constructor(
    private readonly list: HTMLElement,
    private readonly count: HTMLElement,
    private readonly onPick: (nick: string) => void,
  ) {}

  render(members: Iterable<Member>, self: string): void {
    const sorted = [...members].sort((a, b) => a.nick.localeCompare(b.nick));
    this.count.textContent = String(sorted.length);
    this.list.replaceChildren(
      ...sorted.map((member) => {
        const isSelf = member.clientId === self;
        const nick = h('span', { class: 'nick' }, member.nick);
        nick.style.setProperty('--hue', String(nickHue(member.nick)));
        const button = h(
          'button',
          { type: 'button', class: 'link', title: isSelf ? 'you' : `message ${member.nick}` },
          h('span', { class: 'presence', 'aria-label': 'online' }),
          nick,
          h('small', { class: 'node' }, member.nodeId),
        );
        if (!isSelf) button.addEventListener('click', () => this.onPick(member.nick));
        return h('li', { class: isSelf ? 'member self' : 'member', 'data-nick': member.nick }, button);
      }),
    );
  }

  clear(): void {
    this.count.textContent = '';
    this.list.replaceChildren();
  }
}
