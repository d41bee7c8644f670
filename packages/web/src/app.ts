import {
  type ChatClient,
  ChatClientError,
  type ChatMessage,
  type DirectMessage,
  type Member,
  type PresenceEvent,
} from '@meshchat/client/browser';
import { DEFAULT_MAX_ROOM_NAME_LENGTH, ROOM_PATTERN } from '@meshchat/protocol';
import { type Command, parseCommand } from './commands.js';
import { Conversation, type ShownMessage } from './conversation.js';
import { ConnectionIndicator } from './views/connection-indicator.js';
import { ConversationList } from './views/conversation-list.js';
import { MemberList } from './views/member-list.js';
import { MessageView, type PendingSend } from './views/message-view.js';

// History pages asked for when scrolling up.
const HISTORY_PAGE = 50;

/** The page's elements the app draws into (static/index.html). */
export interface AppElements {
  app: HTMLElement;
  title: HTMLElement;
  connection: HTMLElement;
  connectionText: HTMLElement;
  rooms: HTMLElement;
  directs: HTMLElement;
  directory: HTMLElement;
  joinForm: HTMLFormElement;
  joinInput: HTMLInputElement;
  me: HTMLElement;
  messages: HTMLElement;
  scroller: HTMLElement;
  composer: HTMLFormElement;
  composerInput: HTMLTextAreaElement;
  members: HTMLElement;
  memberCount: HTMLElement;
  toggleRooms: HTMLElement;
  toggleMembers: HTMLElement;
}

/**
 * The chat page once connected: ChatClient's events go into conversations (rooms and
 * DMs), and the views show the one on screen. ChatClient does the failover, resume,
 * outbox and exactly-once delivery; the page only draws what it is given, once.
 */
export class ChatApp {
  private readonly conversations = new Map<string, Conversation>();
  private readonly members = new Map<string, Map<string, Member>>();
  private readonly pending: (PendingSend & { room: string })[] = [];
  private current = '';
  private isLoadingOlder = false;
  private readonly indicator: ConnectionIndicator;
  private readonly view: MessageView;
  private readonly sidebar: ConversationList;
  private readonly memberList: MemberList;

  constructor(
    private readonly client: ChatClient,
    private readonly ui: AppElements,
  ) {
    this.indicator = new ConnectionIndicator(ui.connection, ui.connectionText);
    this.view = new MessageView(ui.messages, ui.scroller);
    this.sidebar = new ConversationList(ui.rooms, ui.directs, ui.directory, {
      open: (name) => this.open(name),
      leave: (room) => void this.leave(room),
      join: (room) => void this.join(room),
    });
    this.memberList = new MemberList(ui.members, ui.memberCount, (nick) => this.open(directName(nick)));
    this.listen();
  }

  /** Call before connect(), so the indicator shows the first attempt. */
  connecting(server: string): void {
    this.indicator.connecting(server);
  }

  /**
   * After the first welcome: shows the page in `room`. The client's events are heard
   * from construction, so nothing that came with the welcome is missed.
   */
  async start(room: string): Promise<void> {
    this.bindControls();
    this.ui.me.textContent = this.client.nick;
    this.ui.app.hidden = false;
    await this.join(room);
    void this.refreshDirectory();
  }

  private listen(): void {
    const client = this.client;
    client.on('message', (message) => this.onMessage(message));
    client.on('direct', (direct) => this.onDirect(direct));
    client.on('presence', (presence) => this.onPresence(presence));
    client.on('connected', (info) => {
      this.indicator.connected(info);
      if (!info.lost) return;
      this.note(
        `reconnected to ${info.nodeId} in ${info.failoverMs} ms after losing ${info.lost.nodeId} · ` +
          `${info.caughtUp} caught up`,
        'note failover',
      );
      void this.refreshMembers();
      void this.refreshDirectory();
    });
    client.on('disconnected', (info) => {
      this.indicator.disconnected(info);
      this.note(`connection to ${info.nodeId} lost (${info.reason}) · reconnecting…`, 'note failover');
    });
    client.on('reconnecting', (info) => this.indicator.reconnecting(info));
    client.on('error', (error) => this.note(error.message, 'note error'));
    client.on('closed', ({ reason }) => this.indicator.closed(reason));
  }

  private bindControls(): void {
    const { composer, composerInput, joinForm, joinInput, app, toggleRooms, toggleMembers, scroller } = this.ui;
    scroller.addEventListener('scroll', () => {
      if (this.view.isNearTop) void this.loadOlder();
    });
    composer.addEventListener('submit', (event) => {
      event.preventDefault();
      const line = composerInput.value;
      composerInput.value = '';
      if (line.trim() !== '') void this.run(parseCommand(line));
    });
    // Enter sends, Shift+Enter starts a new line.
    composerInput.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        composer.requestSubmit();
      }
    });
    joinForm.addEventListener('submit', (event) => {
      event.preventDefault();
      const room = joinInput.value.trim().replace(/^#/, '').toLowerCase();
      joinInput.value = '';
      if (room) void this.join(room);
    });
    joinInput.addEventListener('focus', () => void this.refreshDirectory());
    toggleRooms.addEventListener('click', () => app.classList.toggle('show-sidebar'));
    toggleMembers.addEventListener('click', () => app.classList.toggle('show-members'));
  }

  private async run(command: Command): Promise<void> {
    switch (command.kind) {
      case 'say':
        if (this.conversation(this.current).isDirect) return this.sendDirect(this.current.slice(1), command.text);
        if (!this.client.joinedRooms.includes(this.current))
          return this.note('join a room first: /join room', 'note error');
        return this.say(this.current, command.text);
      case 'join':
        return this.join(command.room.replace(/^#/, '').toLowerCase());
      case 'leave':
        return this.leave(command.room?.replace(/^#/, '') ?? this.current);
      case 'dm':
        this.open(directName(command.nick));
        return this.sendDirect(command.nick, command.text);
      case 'invalid':
        return this.note(command.problem, 'note error');
    }
  }

  private async join(room: string): Promise<void> {
    if (room.length > DEFAULT_MAX_ROOM_NAME_LENGTH || !ROOM_PATTERN.test(room)) {
      return this.note(`"${room}" is not a room name: lowercase letters, digits, _ . -`, 'note error');
    }
    if (this.client.joinedRooms.includes(room)) return this.open(room);
    try {
      const { members, history } = await this.client.join(room);
      const conversation = this.conversation(room);
      for (const message of history) conversation.add(shownOf(message));
      this.members.set(room, new Map(members.map((m) => [m.clientId, m])));
      this.open(room);
      void this.refreshDirectory();
    } catch (err) {
      this.note(`could not join #${room}: ${(err as Error).message}`, 'note error');
    }
  }

  private async leave(room: string): Promise<void> {
    if (!this.client.joinedRooms.includes(room)) return;
    try {
      await this.client.leave(room);
    } catch (err) {
      return this.note(`could not leave #${room}: ${(err as Error).message}`, 'note error');
    }
    this.conversations.delete(room);
    this.members.delete(room);
    const next = this.client.joinedRooms[0] ?? [...this.conversations.keys()][0];
    if (next) this.open(next);
    else this.renderSidebar();
    void this.refreshDirectory();
  }

  private open(name: string): void {
    const conversation = this.conversation(name);
    this.current = name;
    conversation.unread = 0;
    this.ui.app.classList.remove('show-sidebar', 'show-members');
    this.ui.title.textContent = conversation.isDirect ? name.slice(1) : `#${name}`;
    this.ui.composerInput.placeholder = conversation.isDirect ? `Message ${name.slice(1)}` : `Message #${name}`;
    if (!conversation.isDirect) history.replaceState(null, '', `#${name}`);
    this.view.show(conversation);
    for (const send of this.pending) if (send.room === name) this.view.showPending(send);
    this.renderMembers();
    this.renderSidebar();
    if (this.view.isShort) void this.loadOlder();
    this.ui.composerInput.focus();
  }

  private async say(room: string, text: string): Promise<void> {
    const send = { room, ...this.view.addPending(text) };
    this.pending.push(send);
    try {
      await this.client.send(room, text);
    } catch (err) {
      // Refused (too long, rate limited...): the line stays, saying so, until the view changes.
      this.forget(send);
      send.element.classList.add('failed');
      send.element.append(` · not sent: ${describe(err)}`);
      return;
    }
    this.settle(send);
  }

  // The message is shown once the node delivers it; until then it is a pending line.
  private settle(send: PendingSend & { room: string }): void {
    this.forget(send);
    send.element.remove();
  }

  private forget(send: PendingSend & { room: string }): void {
    const index = this.pending.indexOf(send);
    if (index >= 0) this.pending.splice(index, 1);
  }

  private async sendDirect(nick: string, text: string): Promise<void> {
    try {
      const { id } = await this.client.dm(nick, text);
      const now = Date.now();
      // The node does not echo a direct message to its sender: it is shown from the ack.
      this.addTo(directName(nick), {
        id: `${id.room}/${id.origin}/${id.seq}`,
        hlc: now * 1024,
        origin: id.origin,
        seq: id.seq,
        from: { clientId: this.client.clientId, nick: this.client.nick },
        clientMsgId: `ack:${id.room}/${id.origin}/${id.seq}`,
        text,
        sentAt: now,
      });
    } catch (err) {
      this.note(`not sent to ${nick}: ${describe(err)}`, 'note error');
    }
  }

  private onMessage(message: ChatMessage): void {
    if (message.from.clientId === this.client.clientId) {
      const send = this.pending.find((p) => p.room === message.room && p.text === message.text);
      if (send) this.settle(send);
    }
    this.addTo(message.room, shownOf(message));
  }

  private onDirect(direct: DirectMessage): void {
    const { id, ...rest } = direct;
    this.addTo(directName(direct.from.nick), { ...rest, id: `${id.room}/${id.origin}/${id.seq}`, ...id });
  }

  private addTo(name: string, message: ShownMessage): void {
    const conversation = this.conversation(name);
    const index = conversation.add(message);
    if (index === undefined) return;
    if (name === this.current) {
      this.view.insert(message, index);
      return;
    }
    if (message.from.clientId !== this.client.clientId) conversation.unread++;
    this.renderSidebar();
  }

  private onPresence(presence: PresenceEvent): void {
    const members = this.members.get(presence.room);
    if (!members) return;
    if (presence.event === 'joined') members.set(presence.member.clientId, presence.member);
    else members.delete(presence.member.clientId);
    if (presence.room !== this.current) return;
    this.renderMembers();
    this.note(`${presence.member.nick} ${presence.event === 'joined' ? 'joined' : 'left'}`);
  }

  private async loadOlder(): Promise<void> {
    const conversation = this.conversation(this.current);
    if (this.isLoadingOlder || !conversation.hasOlder) return;
    if (conversation.isDirect) {
      conversation.hasOlder = false;
      return this.view.prependedOlder();
    }
    this.isLoadingOlder = true;
    try {
      const oldest = conversation.oldest;
      const page = await this.client.history(conversation.name, {
        limit: HISTORY_PAGE,
        ...(oldest ? { before: oldest } : {}),
      });
      for (const message of page.messages) conversation.add(shownOf(message));
      conversation.hasOlder = page.hasMore;
      if (this.view.shown === conversation) this.view.prependedOlder();
    } catch (err) {
      this.note(`could not load older messages: ${describe(err)}`, 'note error');
    } finally {
      this.isLoadingOlder = false;
    }
    if (this.view.shown === conversation && this.view.isShort) void this.loadOlder();
  }

  // Another node may know the members better after a failover (its own view of presence).
  private async refreshMembers(): Promise<void> {
    for (const room of this.client.joinedRooms) {
      try {
        const members = await this.client.who(room);
        this.members.set(room, new Map(members.map((m) => [m.clientId, m])));
      } catch {
        // The next failover or presence event updates them.
      }
    }
    this.renderMembers();
  }

  private async refreshDirectory(): Promise<void> {
    try {
      const rooms = await this.client.rooms();
      this.sidebar.renderDirectory(rooms, (room) => this.client.joinedRooms.includes(room));
    } catch {
      // Shown again on the next refresh.
    }
  }

  private renderMembers(): void {
    const members = this.members.get(this.current);
    if (members) this.memberList.render(members.values(), this.client.clientId);
    else this.memberList.clear();
  }

  private renderSidebar(): void {
    this.sidebar.render(this.conversations.values(), this.current);
    const unread = [...this.conversations.values()].reduce((n, c) => n + c.unread, 0);
    document.title = unread > 0 ? `(${unread}) meshchat` : 'meshchat';
  }

  private note(text: string, kind?: string): void {
    this.view.note(text, kind);
  }

  private conversation(name: string): Conversation {
    let conversation = this.conversations.get(name);
    if (!conversation) {
      conversation = new Conversation(name);
      this.conversations.set(name, conversation);
    }
    return conversation;
  }
}

/** The conversation name of direct messages with `nick` (nicks compare case-insensitively). */
function directName(nick: string): string {
  return `@${nick.toLowerCase()}`;
}

function shownOf(message: ChatMessage): ShownMessage {
  return { ...message, id: `${message.room}/${message.origin}/${message.seq}` };
}

function describe(err: unknown): string {
  return err instanceof ChatClientError ? `${err.code}: ${err.message}` : String(err);
}
